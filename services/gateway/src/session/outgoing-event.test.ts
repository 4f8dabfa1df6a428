import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ws from 'ws';
import type { FeedRecord } from '@chat/kafka';
import { decodeCursor } from '@chat/protocol';
import type { Logger } from '@chat/runtime';
import type { RoomStore } from '../ports/room-store';
import { Hub } from './hub';
import { OutgoingEvent, websocketTextFrame } from './outgoing-event';
import { Session } from './session';

/** ws' frame parser, which ws exports but @types/ws does not describe. */
const { Receiver } = ws as unknown as {
  Receiver: new (options: { isServer: boolean }) => NodeJS.WritableStream & {
    on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
    on(event: 'error', listener: (error: Error) => void): void;
  };
};

/** What a WebSocket client reads from these bytes, through ws' own frame parser. */
function readFrames(bytes: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const texts: string[] = [];
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, isBinary: boolean) => texts.push(isBinary ? '<binary>' : data.toString()));
    receiver.on('error', reject);
    receiver.write(bytes, () => resolve(texts));
  });
}

test('websocket frames of every length class read back as the same text frames', async () => {
  const texts = ['{}', `{"text":"${'é'.repeat(100)}"}`, `{"text":"${'x'.repeat(70_000)}"}`];
  assert.deepEqual(await readFrames(Buffer.concat(texts.map(websocketTextFrame))), texts);
});

test('an event is encoded once per transport however often it is asked for', () => {
  const event = new OutgoingEvent('message', '{"type":"message","seq":3}', 'AQ');
  assert.equal(event.jsonWithCursor, '{"type":"message","seq":3,"cursor":"AQ"}');
  assert.equal(event.websocketFrame, event.websocketFrame);
  assert.equal(event.sseEvent.toString(), 'id: AQ\nevent: message\ndata: {"type":"message","seq":3,"cursor":"AQ"}\n\n');
  assert.equal(event.sseEvent, event.sseEvent);
});

const ROOM_A = '00000000-0000-4000-8000-00000000000a';
const ROOM_B = '00000000-0000-4000-8000-00000000000b';
const quietStore = { messagesAfterMany: async () => [] } as unknown as RoomStore;
const logger = { warn() {}, error() {} } as unknown as Logger;

async function openSession(hub: Hub, positions: Array<[string, number]>): Promise<OutgoingEvent[]> {
  const received: OutgoingEvent[] = [];
  const session = new Session({ user: { id: 'u', name: 'u' }, expiresAt: Infinity, issuedAt: 0 }, { hub, store: quietStore, logger }, {
    push: (event) => received.push(event),
    close: () => assert.fail('no failure expected'),
  });
  await session.start({ positions: new Map(positions), carried: new Map(), allRooms: false });
  return received;
}

test('streams that cover only the event’s room share one encoded event; a stream with more rooms gets its own cursor', async () => {
  const hub = new Hub();
  const soloOne = await openSession(hub, [[ROOM_A, 4]]);
  const soloTwo = await openSession(hub, [[ROOM_A, 4]]);
  const both = await openSession(hub, [[ROOM_A, 4], [ROOM_B, 9]]);
  const record: FeedRecord = { kind: 'entry', type: 'message', room: ROOM_A, seq: 5, json: '{"type":"message","seq":5}' };
  assert.equal(hub.deliver(record), 3);

  const [one, two, mixed] = [soloOne.at(-1)!, soloTwo.at(-1)!, both.at(-1)!];
  assert.equal(one, two, 'one object, so one encoding, for both single-room streams');
  assert.deepEqual(decodeCursor(one.cursor), new Map([[ROOM_A, 5]]));
  assert.notEqual(mixed, one);
  assert.deepEqual(decodeCursor(mixed.cursor), new Map([[ROOM_A, 5], [ROOM_B, 9]]));
  assert.equal(mixed.json, one.json);
});
