import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { ApiClient, startTestStack, WsStream, type TestStack } from '@chat/testkit';

let stack: TestStack;
let signingKey: CryptoKey;

before(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  signingKey = privateKey;
  stack = await startTestStack({
    env: { JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: await exportSPKI(publicKey), JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'chat-app', DEV_LOGIN: 'false' },
  });
});
after(() => stack?.stop());

async function idpClient(subject: string, name: string, audience = 'chat-app'): Promise<ApiClient> {
  const client = new ApiClient(stack.gateways[0]!.url);
  client.token = await new SignJWT({ name }).setProtectedHeader({ alg: 'RS256' }).setSubject(subject).setIssuer('https://idp.test')
    .setAudience(audience).setIssuedAt().setExpirationTime('10m').sign(signingKey);
  return client;
}

test('users of an RS256 identity provider create rooms, join and chat; the development login is off', async () => {
  const login = await new ApiClient(stack.gateways[0]!.url).request('POST', '/api/login', { username: 'mallory' });
  assert.equal(login.status, 403);

  const erin = await idpClient('github|erin', 'Erin');
  const frank = await idpClient('github|frank', 'Frank');
  const room = await erin.createRoom('federated');
  await frank.joinRoom(room.id);
  const stream = await WsStream.forUser(frank, { rooms: room.id });
  const sent = await erin.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: 'e1', text: 'hello from the IdP' });
  assert.equal(sent.status, 202);
  const [message] = await stream.waitForMessages(1);
  assert.equal(message!.sender.name, 'Erin');
  assert.equal(message!.text, 'hello from the IdP');
  await stream.close();
});

test("a token the same identity provider issued for another application is refused", async () => {
  const elsewhere = await idpClient('github|erin', 'Erin', 'another-app');
  const refused = await elsewhere.request('GET', '/api/rooms');
  assert.equal(refused.status, 401);
  const here = await idpClient('github|erin', 'Erin');
  assert.equal((await here.request('GET', '/api/rooms')).status, 200);
});
