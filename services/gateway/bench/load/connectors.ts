/**
 * How the load generator speaks to each system under test over one WebSocket:
 * ours (/ws), Socket.IO (the engine.io v4 framing, read raw so that counting a
 * delivery costs the same for every system) and Centrifugo (its JSON protocol).
 * A connection is "ready" once it is subscribed to its room.
 */
import WebSocket from 'ws';

export type SystemName = 'ours' | 'socketio' | 'centrifugo';

export interface Target {
  system: SystemName;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Ours: a bearer token (development login). */
  token?: string;
  /** Ours: a room nobody publishes to, for connections that only send (the sender is a member of every room). */
  quietRoom?: string;
}

export interface Subscriber {
  socket: WebSocket;
  ready: Promise<void>;
}

const wsUrl = (target: Target, path: string) => `${target.url.replace(/^http/, 'ws')}${path}`;

/**
 * Opens one WebSocket subscribed to `room`; `onDelivery` gets every frame that carries room events, as the bytes
 * that came: the fan-out benchmark's clients read over a million frames a second, and decoding each to a string
 * only to count it took CPU from the server under test on the same 2 cores.
 */
export function subscribe(target: Target, room: string, localAddress: string, onDelivery?: (frame: Buffer) => void): Subscriber {
  let markReady!: () => void;
  let fail!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    fail = reject;
  });
  const options = { localAddress, perMessageDeflate: false, handshakeTimeout: 60_000 };
  let socket: WebSocket;
  if (target.system === 'ours') {
    socket = new WebSocket(wsUrl(target, `/ws?rooms=${room}`), { ...options, headers: { authorization: `Bearer ${target.token}` } });
    let isReady = false;
    socket.on('message', (data: Buffer) => {
      if (!isReady && data.toString().startsWith('{"type":"ready"')) {
        isReady = true;
        markReady();
      } else onDelivery?.(data);
    });
  } else if (target.system === 'socketio') {
    socket = new WebSocket(wsUrl(target, '/socket.io/?EIO=4&transport=websocket'), options);
    socket.on('message', (data: Buffer) => {
      if (data[0] === 0x34 && data[1] === 0x32) return onDelivery?.(data); // "42": an event
      const frame = data.toString();
      if (frame === '2') socket.send('3');
      else if (frame.startsWith('0{')) socket.send('40');
      else if (frame.startsWith('40')) socket.send(`420${JSON.stringify(['join', room])}`);
      else if (frame.startsWith('430')) markReady();
    });
  } else {
    socket = new WebSocket(wsUrl(target, '/connection/websocket'), options);
    socket.on('open', () => socket.send('{"id":1,"connect":{}}'));
    socket.on('message', (data: Buffer) => {
      // Pushes carry no id; replies do. Several may share a frame, one per line.
      if (data.includes('"push"')) return onDelivery?.(data);
      const frame = data.toString();
      if (frame === '{}') socket.send('{}');
      else if (frame.startsWith('{"id":1,')) socket.send(JSON.stringify({ id: 2, subscribe: { channel: room } }));
      else if (frame.startsWith('{"id":2,')) {
        if (frame.includes('"error"')) fail(new Error(`centrifugo refused the subscription: ${frame}`));
        else markReady();
      }
    });
  }
  socket.on('error', (error) => fail(error));
  socket.on('close', (code) => fail(new Error(`closed with ${code} before it was ready`)));
  return { socket, ready };
}

/** How many room events one delivery frame holds. */
export function deliveriesIn(system: SystemName, frame: Buffer): number {
  if (system !== 'centrifugo') return 1;
  let count = 0;
  for (let at = frame.indexOf('"pub"'); at >= 0; at = frame.indexOf('"pub"', at + 5)) count++;
  return count;
}

/** Every message a delivery frame holds: its text, and for ours the gateway's `sentAt` (when it accepted the send). */
export function messagesIn(system: SystemName, data: Buffer): { text: string; sentAt?: string }[] {
  const frame = data.toString();
  if (system === 'ours') {
    const event = JSON.parse(frame) as { type: string; text?: string; sentAt?: string };
    return event.type === 'message' && event.text ? [{ text: event.text, sentAt: event.sentAt }] : [];
  }
  if (system === 'socketio') return [{ text: (JSON.parse(frame.slice(2)) as [string, { text: string }])[1].text }];
  return frame
    .split('\n')
    .map((line) => (JSON.parse(line) as { push?: { pub?: { data?: { text?: string } } } }).push?.pub?.data?.text)
    .filter((text): text is string => typeof text === 'string')
    .map((text) => ({ text }));
}

/** A connection that publishes into rooms: ours sends through the gateway's send path, the peers publish as a client. */
export interface Publisher {
  ready: Promise<void>;
  publish(room: string, text: string): void;
  close(): void;
}

/** Unique across every publisher and job of this process: a repeated clientMsgId is deduplicated, never delivered. */
let published = 0;
const RUN = `${process.pid}-${Date.now().toString(36)}`;

export function publisher(target: Target, localAddress: string): Publisher {
  let n = 0;
  if (target.system === 'ours') {
    const socket = new WebSocket(wsUrl(target, `/ws?rooms=${target.quietRoom}`), { localAddress, perMessageDeflate: false, headers: { authorization: `Bearer ${target.token}` } });
    return {
      ready: new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      }),
      publish: (room, text) => socket.send(JSON.stringify({ type: 'send', room, clientMsgId: `${RUN}-${published++}`, text })),
      close: () => socket.close(),
    };
  }
  if (target.system === 'socketio') {
    const socket = new WebSocket(wsUrl(target, '/socket.io/?EIO=4&transport=websocket'), { localAddress, perMessageDeflate: false });
    const ready = new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => {
        const frame = data.toString();
        if (frame === '2') socket.send('3');
        else if (frame.startsWith('0{')) socket.send('40');
        else if (frame.startsWith('40')) resolve();
      });
      socket.once('error', reject);
    });
    return { ready, publish: (room, text) => socket.send(`42${JSON.stringify(['send', { room, text }])}`), close: () => socket.close() };
  }
  const socket = new WebSocket(wsUrl(target, '/connection/websocket'), { localAddress, perMessageDeflate: false });
  const ready = new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send('{"id":1,"connect":{}}'));
    socket.on('message', (data) => {
      const frame = data.toString();
      if (frame === '{}') socket.send('{}');
      else if (frame.startsWith('{"id":1,')) resolve();
    });
    socket.once('error', reject);
  });
  return {
    ready,
    publish: (room, text) => socket.send(JSON.stringify({ id: 3 + n++, publish: { channel: room, data: { text } } })),
    close: () => socket.close(),
  };
}
