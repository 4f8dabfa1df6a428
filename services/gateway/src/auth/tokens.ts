import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import type { UserRef } from '@chat/protocol';

export interface Principal {
  user: UserRef;
  /** Token expiry, epoch milliseconds: open streams are closed then. */
  expiresAt: number;
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Issues and verifies the bearer tokens (HS256). */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly issuer: string, private readonly ttlSeconds: number) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(user: UserRef): Promise<string> {
    return new SignJWT({ name: user.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: this.issuer, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload.name !== 'string' || typeof payload.exp !== 'number') {
        throw new AuthError('token lacks sub, name or exp');
      }
      return { user: { id: payload.sub, name: payload.name }, expiresAt: payload.exp * 1000 };
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('token expired');
      throw new AuthError('invalid token');
    }
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}
