/**
 * Hand-made histories for the checker's tests, written the way a run happens: each call records one operation one
 * millisecond after the last (`wait` jumps ahead), and stored rows go into the state Postgres would hold.
 */
import type { EntryKind, HistoryOp, Positions, ResumeKind, SendOutcomeKind, StoredRow, StoredState, UntimedOp } from './history';
import type { TransportName } from '@chat/protocol';

export interface Sender {
  client: string;
  user: string;
  /** The WebSocket connection it sends on; HTTP without one. */
  connection?: string;
  sequential?: boolean;
}

export class Scenario {
  now = 1_000;
  readonly ops: HistoryOp[] = [];
  readonly rows: StoredRow[] = [];
  private readonly rooms = new Map<string, { lastSeq: number; members: Set<string> }>();

  private add(op: UntimedOp): this {
    this.ops.push({ ...op, t: this.now++ } as HistoryOp);
    return this;
  }

  wait(ms: number): this {
    this.now += ms;
    return this;
  }

  room(room: string, members: string[]): this {
    this.rooms.set(room, { lastSeq: 0, members: new Set(members) });
    return this;
  }

  open(
    client: string,
    user: string,
    connection: string,
    options: { transport?: TransportName; rooms?: string[] | null; from?: Positions; resume?: ResumeKind } = {},
  ): this {
    return this.add({
      op: 'connection-opened',
      client,
      user,
      connection,
      transport: options.transport ?? 'websocket',
      rooms: options.rooms ?? null,
      resume: options.resume ?? (options.from ? 'last' : 'none'),
      from: options.from ?? {},
    });
  }

  positions(client: string, connection: string, positions: Positions): this {
    return this.add({ op: 'stream-positions', client, connection, positions });
  }

  close(client: string, connection: string, reason = 'cut'): this {
    return this.add({ op: 'connection-closed', client, connection, reason });
  }

  invoke(sender: Sender, room: string, clientMsgId: string, text: string, options: { attempt?: number; kind?: EntryKind; target?: number } = {}): this {
    return this.add({
      op: 'send',
      client: sender.client,
      user: sender.user,
      ...(sender.connection ? { connection: sender.connection } : {}),
      via: sender.connection ? 'websocket' : 'http',
      room,
      clientMsgId,
      text,
      ...(options.kind ? { kind: options.kind } : {}),
      ...(options.target !== undefined ? { target: options.target } : {}),
      sequential: sender.sequential ?? true,
      attempt: options.attempt ?? 1,
    });
  }

  outcome(sender: Sender, room: string, clientMsgId: string, outcome: SendOutcomeKind, options: { attempt?: number; code?: string } = {}): this {
    return this.add({
      op: 'send-outcome',
      client: sender.client,
      room,
      clientMsgId,
      attempt: options.attempt ?? 1,
      outcome,
      ...(options.code ? { code: options.code } : {}),
    });
  }

  /** A row at the room's next seq (or the given one), as the messaging writer stores it. */
  store(room: string, row: Partial<StoredRow> & { clientMsgId: string; senderId: string; text: string }): StoredRow {
    const state = this.roomState(room);
    const stored: StoredRow = { room, seq: state.lastSeq + 1, kind: 'message', target: null, edited: false, deleted: false, ...row };
    state.lastSeq = Math.max(state.lastSeq, stored.seq);
    this.rows.push(stored);
    return stored;
  }

  /** Invoked, stored at the next seq, acknowledged: the common case. */
  message(sender: Sender, room: string, clientMsgId: string, text = `text of ${clientMsgId}`): StoredRow {
    this.invoke(sender, room, clientMsgId, text);
    const row = this.store(room, { clientMsgId, senderId: sender.user, text });
    this.outcome(sender, room, clientMsgId, 'ack');
    return row;
  }

  /** A frame as the receiver got it; by default the stored row's fields. */
  deliver(client: string, connection: string, room: string, seq: number, overrides: Partial<Omit<HistoryOp & { op: 'frame' }, 'op' | 't'>> = {}): this {
    const row = this.rows.find((candidate) => candidate.room === room && candidate.seq === seq);
    const fields = {
      type: row?.kind ?? 'message',
      room,
      seq,
      clientMsgId: row?.clientMsgId ?? 'unknown',
      text: row?.text ?? '',
      senderId: row?.senderId ?? 'unknown',
      ...(row && row.target !== null ? { target: row.target } : {}),
      ...overrides,
    };
    return this.add({ op: 'frame', client, connection, transport: 'websocket', ...fields, raw: JSON.stringify(fields) });
  }

  membership(user: string, room: string, change: 'join' | 'leave'): this {
    const members = this.roomState(room).members;
    if (change === 'join') members.add(user);
    else members.delete(user);
    return this.add({ op: 'membership', user, room, change });
  }

  fault(id: string, action: 'inject' | 'heal', kind = 'cut', target = 'gateway-0'): this {
    return this.add({ op: 'fault', action, id, kind, target });
  }

  exit(process: string, expected: boolean, pid = 4242): this {
    return this.add({ op: 'process-exit', process, pid, code: null, signal: 'SIGKILL', expected });
  }

  sample(process: string, rssBytes: number, pid = 4242, rssLimitBytes?: number): this {
    return this.add({ op: 'process-sample', process, pid, rssBytes, openFiles: 40, ...(rssLimitBytes === undefined ? {} : { rssLimitBytes }) });
  }

  lag(consumer: string, lag: number): this {
    return this.add({ op: 'lag-sample', consumer, lag });
  }

  stopped(client: string): this {
    return this.add({ op: 'client-stopped', client });
  }

  settled(): this {
    return this.add({ op: 'settled' });
  }

  lastSeq(room: string, lastSeq: number): this {
    this.roomState(room).lastSeq = lastSeq;
    return this;
  }

  state(): StoredState {
    return {
      rooms: [...this.rooms].map(([room, { lastSeq, members }]) => ({ room, lastSeq, members: [...members] })),
      rows: [...this.rows],
    };
  }

  private roomState(room: string) {
    const state = this.rooms.get(room);
    if (!state) throw new Error(`room ${room} was not declared`);
    return state;
  }
}
