import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@chat/runtime';
import { isLoopbackHost, loadGatewayConfig } from './config';

const SECRET = 'a-real-secret-of-forty-characters-012345';
const PEM = '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadGatewayConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

test('loopback hosts are the local machine only', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '128.0.0.1', '127.0.0.1.example.com', 'localhost.example.com', '']) assert.ok(!isLoopbackHost(host), host);
});

test('the development login and secret work on loopback (npm start), with the secret a warning', () => {
  assert.deepEqual(problemsOf({}), []);
  assert.equal(loadGatewayConfig({}).usingDevSecret, true);
  assert.equal(loadGatewayConfig({ HOST: '::1', DEV_LOGIN: 'true' }).devLogin, true);
});

test('off loopback the gateway refuses to start with the development secret or login, and says why and what to set', () => {
  const both = problemsOf({ HOST: '0.0.0.0' });
  assert.equal(both.length, 2, both.join('\n'));
  assert.match(both[0]!, /JWT_SECRET is not set.*public development secret.*HOST is 0\.0\.0\.0.*openssl rand/);
  assert.match(both[1]!, /DEV_LOGIN=true lets anyone sign in as any user.*HOST is 0\.0\.0\.0.*DEV_LOGIN=false/);

  // The images' settings: HOST=0.0.0.0 and DEV_LOGIN=false; a secret of the operator's is all it takes.
  assert.deepEqual(problemsOf({ HOST: '0.0.0.0', DEV_LOGIN: 'false' }).length, 1);
  assert.deepEqual(problemsOf({ HOST: '0.0.0.0', DEV_LOGIN: 'false', JWT_SECRET: SECRET }), []);
  // A trial (the chart's gateway.auth.devLogin) says so; the development secret stays refused.
  assert.deepEqual(problemsOf({ HOST: '10.1.2.3', JWT_SECRET: SECRET, DEV_LOGIN_ON_NETWORK: 'true' }), []);
  assert.match(problemsOf({ HOST: '10.1.2.3', DEV_LOGIN_ON_NETWORK: 'true' }).join('\n'), /JWT_SECRET is not set/);
  // With RS256 the development login is off whatever DEV_LOGIN says: nothing to refuse about it.
  assert.deepEqual(problemsOf({ HOST: '0.0.0.0', JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: PEM, JWT_AUDIENCE: 'chat' }), []);
});

test('an HS256 secret, current or previous, is at least 32 characters', () => {
  assert.match(problemsOf({ JWT_SECRET: 'short' }).join('\n'), /JWT_SECRET must be at least 32 characters.*got 5/);
  assert.match(problemsOf({ JWT_SECRET: SECRET, JWT_PREVIOUS_SECRET: 'old' }).join('\n'), /JWT_PREVIOUS_SECRET must be at least 32 characters/);
  assert.equal(loadGatewayConfig({ JWT_SECRET: SECRET, JWT_PREVIOUS_SECRET: SECRET.toUpperCase() }).jwtPreviousSecret, SECRET.toUpperCase());
});

test('RS256 needs a key, an audience, and a JWKS URL over https (http only to loopback)', () => {
  const rs = { JWT_ALGORITHM: 'RS256' };
  assert.match(problemsOf(rs).join('\n'), /needs JWT_PUBLIC_KEY \(PEM\) or JWT_JWKS_URL/);
  assert.match(problemsOf({ ...rs, JWT_PUBLIC_KEY: PEM }).join('\n'), /needs JWT_AUDIENCE.*any other application/);
  const jwks = (url: string) => problemsOf({ ...rs, JWT_JWKS_URL: url, JWT_AUDIENCE: 'chat' });
  assert.deepEqual(jwks('https://idp.example/.well-known/jwks.json'), []);
  assert.deepEqual(jwks('http://127.0.0.1:9999/jwks'), []);
  assert.match(jwks('http://idp.example/jwks').join('\n'), /JWT_JWKS_URL must be an https URL/);
  assert.match(jwks('file:///etc/passwd').join('\n'), /JWT_JWKS_URL must be an https URL/);
  assert.match(jwks('not a url').join('\n'), /JWT_JWKS_URL must be an https URL/);
});
