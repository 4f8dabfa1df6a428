import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { AuthError, TokenService, uuidFromSubject } from './tokens';

const user = { id: '0b3f1c7e-2a4d-4e8f-9a1b-3c5d7e9f1a2b', name: 'alice' };

test('HS256 tokens it issues verify, and carry the user and expiry', async () => {
  const tokens = new TokenService({ algorithm: 'HS256', secret: 's'.repeat(32), issuer: 'me', ttlSeconds: 60 });
  const principal = await tokens.verify(await tokens.issue(user));
  assert.deepEqual(principal.user, user);
  assert.ok(principal.expiresAt > Date.now() + 50_000);
});

test('a wrong secret, issuer or audience, or an expired token, is refused', async () => {
  const issuer = new TokenService({ algorithm: 'HS256', secret: 's'.repeat(32), issuer: 'me', ttlSeconds: 60 });
  const token = await issuer.issue(user);
  for (const settings of [
    { secret: 't'.repeat(32), issuer: 'me' },
    { secret: 's'.repeat(32), issuer: 'someone-else' },
    { secret: 's'.repeat(32), issuer: 'me', audience: 'chat' },
  ]) {
    const verifier = new TokenService({ algorithm: 'HS256', ttlSeconds: 60, ...settings });
    await assert.rejects(verifier.verify(token), AuthError);
  }
  const expired = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setIssuer('me')
    .setExpirationTime(Math.floor(Date.now() / 1000) - 10).sign(new TextEncoder().encode('s'.repeat(32)));
  await assert.rejects(issuer.verify(expired), /token expired/);
});

test('HS256 rotation: tokens of the previous secret still verify, with every other check; new tokens carry the new secret', async () => {
  const before = new TokenService({ algorithm: 'HS256', secret: 'o'.repeat(32), issuer: 'me', ttlSeconds: 60 });
  const oldToken = await before.issue(user);
  const rotating = new TokenService({ algorithm: 'HS256', secret: 'n'.repeat(32), previousSecret: 'o'.repeat(32), issuer: 'me', ttlSeconds: 60 });
  assert.deepEqual((await rotating.verify(oldToken)).user, user);
  const newToken = await rotating.issue(user);
  await assert.rejects(before.verify(newToken), AuthError, 'issued with the new secret, not the previous one');
  // The rotation ends: the old secret is gone, and so are its tokens.
  const after = new TokenService({ algorithm: 'HS256', secret: 'n'.repeat(32), issuer: 'me', ttlSeconds: 60 });
  await assert.rejects(after.verify(oldToken), AuthError);
  assert.deepEqual((await after.verify(newToken)).user, user);
  // The previous secret does not relax the issuer, the audience or the expiry.
  const otherIssuer = new TokenService({ algorithm: 'HS256', secret: 'o'.repeat(32), issuer: 'someone-else', ttlSeconds: 60 });
  await assert.rejects(rotating.verify(await otherIssuer.issue(user)), AuthError);
  const expired = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setIssuer('me')
    .setExpirationTime(Math.floor(Date.now() / 1000) - 100).sign(new TextEncoder().encode('o'.repeat(32)));
  await assert.rejects(rotating.verify(expired), /token expired/);
  const wrong = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setIssuer('me')
    .setExpirationTime('1m').sign(new TextEncoder().encode('w'.repeat(32)));
  await assert.rejects(rotating.verify(wrong), /invalid token/);
});

test('RS256 tokens of an identity provider verify by public key and by JWKS, with stable ids for non-UUID subjects', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const token = await new SignJWT({ preferred_username: 'bob' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setSubject('auth0|12345')
    .setIssuer('https://idp.example')
    .setAudience('chat')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

  const byPem = new TokenService({ algorithm: 'RS256', publicKeyPem: await exportSPKI(publicKey), issuer: 'https://idp.example', audience: 'chat', ttlSeconds: 60 });
  const principal = await byPem.verify(token);
  assert.equal(principal.user.name, 'bob');
  assert.equal(principal.user.id, uuidFromSubject('https://idp.example', 'auth0|12345'));
  assert.match(principal.user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    const byJwks = new TokenService({ algorithm: 'RS256', jwksUrl, issuer: 'https://idp.example', audience: 'chat', ttlSeconds: 60 });
    assert.deepEqual((await byJwks.verify(token)).user, principal.user);
    const hs = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject('a').setIssuer('https://idp.example')
      .setAudience('chat').setExpirationTime('5m').sign(new TextEncoder().encode('s'.repeat(32)));
    await assert.rejects(byJwks.verify(hs), AuthError, 'an HS256 token is not accepted where RS256 is configured');
  } finally {
    server.close();
  }
});

test('a token is accepted within the clock tolerance of its exp and nbf, so that a gateway whose clock is ahead logs nobody out', async () => {
  const key = new TextEncoder().encode('s'.repeat(32));
  const tokens = new TokenService({ algorithm: 'HS256', secret: 's'.repeat(32), issuer: 'me', ttlSeconds: 60, clockToleranceSeconds: 30 });
  const now = Math.floor(Date.now() / 1000);
  const signed = (claims: { exp: number; nbf?: number; iat?: number }) => {
    const jwt = new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setIssuer('me').setExpirationTime(claims.exp);
    if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
    jwt.setIssuedAt(claims.iat ?? now);
    return jwt.sign(key);
  };
  const lately = await tokens.verify(await signed({ exp: now - 10 }));
  assert.equal(lately.expiresAt, (now - 10 + 30) * 1000, 'its streams end at exp plus the tolerance');
  await tokens.verify(await signed({ exp: now + 60, nbf: now + 10, iat: now + 10 }));
  await assert.rejects(tokens.verify(await signed({ exp: now - 40 })), /token expired/);
  await assert.rejects(tokens.verify(await signed({ exp: now + 60, nbf: now + 40 })), AuthError);
});

test('a token says when it was issued, to the millisecond for ours; one without iat, or living longer than the sign-out window, is refused', async () => {
  const tokens = new TokenService({ algorithm: 'HS256', secret: 's'.repeat(32), issuer: 'me', ttlSeconds: 60, maxLifetimeSeconds: 3600 });
  const before = Date.now();
  const principal = await tokens.verify(await tokens.issue(user));
  assert.ok(principal.issuedAt >= before && principal.issuedAt <= Date.now(), `issued at ${principal.issuedAt}`);
  const key = new TextEncoder().encode('s'.repeat(32));
  const now = Math.floor(Date.now() / 1000);
  const base = () => new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setIssuer('me');
  // An identity provider's iat in seconds: the end of that second, the latest it can have been issued.
  assert.equal((await tokens.verify(await base().setIssuedAt(now).setExpirationTime(now + 60).sign(key))).issuedAt, now * 1000 + 999);
  // An iat_ms outside its iat's second is not believed.
  const forged = await new SignJWT({ name: 'x', iat_ms: 1 }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setIssuer('me').setIssuedAt(now).setExpirationTime(now + 60).sign(key);
  assert.equal((await tokens.verify(forged)).issuedAt, now * 1000 + 999);
  await assert.rejects(tokens.verify(await base().setExpirationTime(now + 60).sign(key)), /token lacks iat/);
  await assert.rejects(tokens.verify(await base().setIssuedAt(now).setExpirationTime(now + 3601).sign(key)), /token lives longer than 3600 s/);
});
