// Tokens and their claims are the client's to forge: whatever it presents, verification gives a clean principal or
// an AuthError, never anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { checkDisplayName, isUuid } from '@chat/protocol';
import { AuthError, bearerToken, TokenService } from './tokens';

const secret = 's'.repeat(32);
const tokens = new TokenService({ algorithm: 'HS256', secret, issuer: 'me', ttlSeconds: 60 });
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('\u0000', '\ud800', ' ', '', 'x'.repeat(2000), '\u202e\u0007admin'),
  fc.integer(),
  fc.constantFrom(2 ** 53, 1e300, -1),
  fc.constant(null),
);

test('a signed token with forged claims verifies to a clean principal or is refused with AuthError', async () => {
  const claims = fc.record({ sub: hostile, name: hostile, preferred_username: hostile, exp: fc.oneof(fc.constant(Math.floor(Date.now() / 1000) + 60), hostile) }, { requiredKeys: [] });
  await fc.assert(
    fc.asyncProperty(claims, async (payload) => {
      const token = await new SignJWT(payload as Record<string, unknown>).setProtectedHeader({ alg: 'HS256' }).setIssuer('me').sign(new TextEncoder().encode(secret));
      try {
        const principal = await tokens.verify(token);
        assert.ok(isUuid(principal.user.id));
        assert.equal(checkDisplayName(principal.user.name), null, JSON.stringify(principal.user.name));
      } catch (error) {
        assert.ok(error instanceof AuthError, String(error));
      }
    }),
    { numRuns: 500 },
  );
});

test('any bearer header or token string is refused with AuthError or verifies; nothing else is thrown', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.base64String({ maxLength: 200 })), async (header) => {
      const token = bearerToken(`Bearer ${header}`) ?? header;
      await tokens.verify(token).then(
        () => undefined,
        (error: unknown) => assert.ok(error instanceof AuthError, String(error)),
      );
    }),
    { numRuns: 500 },
  );
});
