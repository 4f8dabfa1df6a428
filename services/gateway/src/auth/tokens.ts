import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, importSPKI, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { canonicalUuid, isUuid, sanitizeDisplayName, type UserRef } from '@chat/protocol';
import type { Principal } from '../ports/principal';


export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * `clockToleranceSeconds`: how far `exp`, `nbf` and `iat` may be off this gateway's clock (0 by default). They are
 * wall-clock instants set by another machine, so a gateway whose clock runs ahead would otherwise log users out early.
 */
/** The longest a token may live (exp − iat) by default: a gateway remembers sign-outs this long (sign-outs.ts). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

export type TokenSettings = (
  | {
      algorithm: 'HS256';
      secret: string;
      /** Rotation: tokens signed with it still verify; none is issued with it. */
      previousSecret?: string;
      issuer: string;
      audience?: string;
      ttlSeconds: number;
      clockToleranceSeconds?: number;
    }
  | { algorithm: 'RS256'; publicKeyPem?: string; jwksUrl?: string; issuer: string; audience?: string; ttlSeconds: number; clockToleranceSeconds?: number }
) & {
  /** A token that would live longer (exp − iat) is refused: past it, a sign-out would be forgotten. */
  maxLifetimeSeconds?: number;
};

// RFC 4122 URL namespace: stable ids for subjects of an external identity provider.
const NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/** A name-based (v5) UUID, so that the same issuer and subject always map to the same user id. */
export function uuidFromSubject(issuer: string, subject: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${issuer}|${subject}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Verifies bearer tokens: HS256 with a shared secret (and issues them, for
 * the development login), or RS256 from an identity provider by public key or
 * JWKS URL. A subject that is not a UUID maps to a stable v5 UUID.
 */
export class TokenService {
  private readonly key: Promise<Uint8Array | Awaited<ReturnType<typeof importSPKI>> | JWTVerifyGetKey>;
  private readonly previousKey: Uint8Array | undefined;

  constructor(private readonly settings: TokenSettings) {
    if (settings.algorithm === 'HS256') {
      this.key = Promise.resolve(new TextEncoder().encode(settings.secret));
      if (settings.previousSecret) this.previousKey = new TextEncoder().encode(settings.previousSecret);
    }
    else if (settings.jwksUrl) this.key = Promise.resolve(createRemoteJWKSet(new URL(settings.jwksUrl)));
    else if (settings.publicKeyPem) this.key = importSPKI(settings.publicKeyPem, 'RS256');
    else throw new Error('RS256 needs JWT_PUBLIC_KEY or JWT_JWKS_URL');
  }

  get canIssue(): boolean {
    return this.settings.algorithm === 'HS256';
  }

  async issue(user: UserRef): Promise<string> {
    if (this.settings.algorithm !== 'HS256') throw new Error('tokens are issued by the identity provider');
    // iat in seconds, as JWT has it, and to the millisecond too: a sign-out voids the tokens issued before it, and
    // one issued a moment after it (signing in again) must not share its second.
    const issuedAt = Date.now();
    const jwt = new SignJWT({ name: user.name, iat_ms: issuedAt })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(this.settings.issuer)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .setExpirationTime(Math.floor(issuedAt / 1000) + this.settings.ttlSeconds);
    if (this.settings.audience) jwt.setAudience(this.settings.audience);
    return jwt.sign((await this.key) as Uint8Array);
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const key = await this.key;
      const options = {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: [this.settings.algorithm],
        clockTolerance: this.settings.clockToleranceSeconds ?? 0,
      };
      try {
        ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
      } catch (error) {
        // During a rotation, a token signed with the previous secret (every other check is the same).
        if (!(error instanceof joseErrors.JWSSignatureVerificationFailed) || !this.previousKey) throw error;
        ({ payload } = await jwtVerify(token, this.previousKey, options));
      }
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('token expired');
      throw new AuthError('invalid token');
    }
    const name = payload.name ?? payload.preferred_username ?? payload.sub;
    if (typeof payload.sub !== 'string' || typeof name !== 'string' || typeof payload.exp !== 'number') {
      throw new AuthError('token lacks sub, name or exp');
    }
    // The name is the issuer's text and goes to Postgres and every member's screen: controls and lone surrogates out.
    const displayName = sanitizeDisplayName(name);
    if (displayName === '' || payload.sub.length > 256) throw new AuthError('token has an unusable sub or name');
    const issuedAt = issuedAtMs(payload);
    if (issuedAt === undefined) throw new AuthError('token lacks iat');
    const maxLifetimeSeconds = this.settings.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    if (payload.exp * 1000 - issuedAt > maxLifetimeSeconds * 1000) throw new AuthError(`token lives longer than ${maxLifetimeSeconds} s`);
    const id = isUuid(payload.sub) ? canonicalUuid(payload.sub) : uuidFromSubject(String(payload.iss), payload.sub);
    // When this gateway stops accepting it: its streams end then, and a ticket made from it is refused after.
    return { user: { id, name: displayName }, expiresAt: (payload.exp + (this.settings.clockToleranceSeconds ?? 0)) * 1000, issuedAt };
  }
}

/**
 * When the token was issued, in milliseconds: our own tokens' `iat_ms` (when it falls in their `iat` second), else the
 * last millisecond of `iat` (the latest it can have been issued: a sign-out in that second leaves it valid).
 */
function issuedAtMs(payload: JWTPayload): number | undefined {
  if (typeof payload.iat !== 'number' || !Number.isSafeInteger(payload.iat) || payload.iat < 0) return undefined;
  const precise = payload.iat_ms;
  if (typeof precise === 'number' && Number.isSafeInteger(precise) && Math.floor(precise / 1000) === payload.iat) return precise;
  return payload.iat * 1000 + 999;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}
