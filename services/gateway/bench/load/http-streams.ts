/** Ours over plain HTTP: idle Server-Sent Events streams and pending long polls. */
import { get, type ClientRequest } from 'node:http';
import type { Target } from './connectors';

export interface HeldStream {
  /** SSE: the `ready` event arrived. Poll: the request is on the wire (the gateway's metrics confirm it is held). */
  ready: Promise<void>;
  close(): void;
}

function request(target: Target, path: string, localAddress: string, onResponse: (body: string) => void, onError: (error: Error) => void): ClientRequest {
  const { hostname, port } = new URL(target.url);
  const req = get({ host: hostname, port, path, localAddress, agent: false, headers: { authorization: `Bearer ${target.token}` } }, (response) => {
    response.setEncoding('utf8');
    response.on('data', onResponse);
    response.on('error', onError);
  });
  req.on('error', onError);
  return req;
}

export function openSse(target: Target, room: string, localAddress: string): HeldStream {
  let req: ClientRequest | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    req = request(target, `/sse?rooms=${room}`, localAddress, (chunk) => chunk.includes('event: ready') && resolve(), reject);
  });
  return { ready, close: () => req?.destroy() };
}

/** Polls again whenever a poll is answered, from the answer's cursor, until closed. */
export function openPoll(target: Target, room: string, localAddress: string): HeldStream {
  let closed = false;
  let req: ClientRequest | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    const poll = (cursor: string) => {
      let body = '';
      req = request(target, `/poll?rooms=${room}&timeout=30${cursor ? `&cursor=${cursor}` : ''}`, localAddress, (chunk) => (body += chunk), reject);
      req.on('socket', (socket) => socket.once('connect', resolve));
      req.on('close', () => {
        if (closed) return;
        try {
          poll((JSON.parse(body) as { cursor: string }).cursor);
        } catch {
          poll(cursor);
        }
      });
    };
    poll('');
  });
  return {
    ready,
    close: () => {
      closed = true;
      req?.destroy();
    },
  };
}
