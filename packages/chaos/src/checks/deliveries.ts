import type { ConnectionOpened, FrameReceived, HistoryOp, Positions, StoredRow } from '../history';
import type { AnomalyLog } from './anomalies';
import type { AckedByRoom, LogicalSend } from './sends';
import { range, sendKey, type StoredLog } from './stored-log';

const ENTRY_TYPES = new Set(['message', 'message_edited', 'message_deleted']);

/**
 * What a receiver owes in one room: every stored entry in (start, end]. A chain starts where the receiver's
 * subscription starts (the cursor it opened with, the stream's ready position, or — when neither says — just before
 * its first delivery) and grows with every delivery and every position the server states. It carries on across
 * reconnections that resume from a cursor; a membership change of the room, or a connection opened without a
 * cursor (`resume: 'none'`), ends it and the next one starts afresh.
 *
 * A start guessed from the first delivery (after a join, or on a stream that did not state its position) may be too
 * late: the chain then also owes every acked message first sent a membership bound after it began, and what follows.
 */
export interface Chain {
  start: number | undefined;
  end: number;
  /** When it began: bounds on deliveries count from here too. */
  since: number;
  guessed: boolean;
}

export interface Connection {
  id: string;
  opened: ConnectionOpened;
  closedAt: number | undefined;
  closeReason: string | undefined;
  /** Per room: where this connection started (undefined until known) and the highest seq it delivered. */
  rooms: Map<string, { start: number | undefined; last: number | undefined }>;
}

export interface Receiver {
  client: string;
  user: string;
  connections: Connection[];
  /** Per room, each delivered seq with the time it first arrived. */
  seen: Map<string, Map<number, number>>;
  chains: Map<string, Chain>;
  endedChains: Array<{ room: string; chain: Chain }>;
  stoppedAt: number | undefined;
}

export interface DeliveryResult {
  receivers: Map<string, Receiver>;
  deliveries: number;
  connections: number;
}

/**
 * Replays every receiver's frames in time order, across all its connections: each log entry exactly once, in seq
 * order per room, equal to the stored row, never one that is not stored, none past a leave's bound; then what each
 * receiver's chains owed and never got (`delivery-gap`).
 */
export function checkDeliveries(
  ops: readonly HistoryOp[],
  stored: StoredLog,
  sends: ReadonlyMap<string, LogicalSend>,
  acked: AckedByRoom,
  options: { membershipBoundMs: number },
  anomalies: AnomalyLog,
): DeliveryResult {
  const receivers = new Map<string, Receiver>();
  const receiversOfUser = new Map<string, Receiver[]>();
  const connections = new Map<string, Connection>();
  const lastLeave = new Map<string, number>();
  let deliveries = 0;

  const receiverOf = (client: string, user: string): Receiver => {
    let receiver = receivers.get(client);
    if (!receiver) {
      receiver = { client, user, connections: [], seen: new Map(), chains: new Map(), endedChains: [], stoppedAt: undefined };
      receivers.set(client, receiver);
      const ofUser = receiversOfUser.get(user);
      if (ofUser) ofUser.push(receiver);
      else receiversOfUser.set(user, [receiver]);
    }
    return receiver;
  };

  for (const op of ops) {
    switch (op.op) {
      case 'connection-opened': {
        const receiver = receiverOf(op.client, op.user);
        const connection: Connection = { id: op.connection, opened: op, closedAt: undefined, closeReason: undefined, rooms: new Map() };
        connections.set(connectionKey(op.client, op.connection), connection);
        receiver.connections.push(connection);
        if (op.resume === 'none') for (const room of [...receiver.chains.keys()]) endChain(receiver, room);
        for (const [room, position] of Object.entries(op.from)) {
          connection.rooms.set(room, { start: position, last: undefined });
          extendChain(receiver, room, position, op.t);
        }
        break;
      }
      case 'stream-positions': {
        const connection = connections.get(connectionKey(op.client, op.connection));
        const receiver = receivers.get(op.client);
        if (connection && receiver) applyPositions(receiver, connection, op.positions, op.t);
        break;
      }
      case 'connection-closed': {
        const connection = connections.get(connectionKey(op.client, op.connection));
        if (connection && connection.closedAt === undefined) {
          connection.closedAt = op.t;
          connection.closeReason = op.reason;
        }
        break;
      }
      case 'membership': {
        if (op.change === 'leave') lastLeave.set(`${op.user}#${op.room}`, op.t);
        else lastLeave.delete(`${op.user}#${op.room}`);
        for (const receiver of receiversOfUser.get(op.user) ?? []) {
          endChain(receiver, op.room);
          if (op.change === 'join') receiver.chains.set(op.room, { start: undefined, end: 0, since: op.t, guessed: false });
          for (const connection of receiver.connections) connection.rooms.delete(op.room);
        }
        break;
      }
      case 'client-stopped': {
        const receiver = receivers.get(op.client);
        if (receiver) receiver.stoppedAt ??= op.t;
        break;
      }
      case 'frame': {
        if (!ENTRY_TYPES.has(op.type) || op.room === undefined || op.seq === undefined) break;
        const connection = connections.get(connectionKey(op.client, op.connection));
        const receiver = receivers.get(op.client);
        if (!connection || !receiver) break;
        deliveries++;
        const leftAt = lastLeave.get(`${receiver.user}#${op.room}`);
        if (leftAt !== undefined && op.t > leftAt + options.membershipBoundMs) {
          anomalies.add(
            'delivered-after-leave',
            frameIds(op),
            `${op.client} got seq ${op.seq} of room ${op.room} ${Math.round(op.t - leftAt)} ms after its user left the room`,
          );
        }
        deliver(receiver, connection, op, stored, sends, anomalies);
        break;
      }
      default:
        break;
    }
  }
  for (const receiver of receivers.values()) {
    for (const { room, chain } of [...receiver.endedChains, ...[...receiver.chains].map(([room, chain]) => ({ room, chain }))]) {
      const owedFrom = chain.guessed ? acked.lowestSeqInvokedAfter(room, chain.since + options.membershipBoundMs) : undefined;
      reportChainGaps(receiver, room, chain, owedFrom, stored, anomalies);
    }
  }
  return { receivers, deliveries, connections: connections.size };
}

const connectionKey = (client: string, connection: string) => `${client}#${connection}`;

function frameIds(frame: FrameReceived) {
  return { client: frame.client, connection: frame.connection, room: frame.room, seq: frame.seq, clientMsgId: frame.clientMsgId };
}

function endChain(receiver: Receiver, room: string): void {
  const chain = receiver.chains.get(room);
  if (chain) receiver.endedChains.push({ room, chain });
  receiver.chains.delete(room);
}

/** The receiver is at `position` in the room: a chain starts there, or the one it continues owes everything up to it. */
function extendChain(receiver: Receiver, room: string, position: number, t: number, guessed = false): void {
  const chain = receiver.chains.get(room);
  if (!chain) receiver.chains.set(room, { start: position, end: position, since: t, guessed });
  else if (chain.start === undefined) {
    chain.start = position;
    chain.end = position;
    chain.guessed = guessed;
  } else chain.end = Math.max(chain.end, position);
}

/**
 * The server's statement of where the stream is (the ready cursor, a poll answer's cursor). For a room the
 * connection had no position for, it is the start; for any room, a position past what arrived means entries were
 * skipped: the chain owes them.
 */
function applyPositions(receiver: Receiver, connection: Connection, positions: Positions, t: number): void {
  for (const [room, position] of Object.entries(positions)) {
    if (!connection.rooms.has(room)) connection.rooms.set(room, { start: position, last: undefined });
    extendChain(receiver, room, position, t);
  }
}

function deliver(receiver: Receiver, connection: Connection, frame: FrameReceived, stored: StoredLog, sends: ReadonlyMap<string, LogicalSend>, anomalies: AnomalyLog): void {
  const room = frame.room!;
  const seq = frame.seq!;
  const row = stored.at(room, seq);
  if (!row) {
    anomalies.add('phantom-delivery', frameIds(frame), `${frame.client} got seq ${seq} of room ${room} (${frame.clientMsgId}), which is not stored`);
    return;
  }
  const problems = deliveryProblems(frame, row, stored, sends);
  if (problems.length > 0) anomalies.add('delivery-mismatch', frameIds(frame), `${frame.client} got seq ${seq} of room ${room} unlike its row: ${problems.join('; ')}`);

  let state = connection.rooms.get(room);
  if (!state) {
    // Neither the cursor nor the server said where this room starts on this connection: just before its first entry.
    state = { start: seq - 1, last: undefined };
    connection.rooms.set(room, state);
    extendChain(receiver, room, seq - 1, connection.opened.t, true);
  }
  let seen = receiver.seen.get(room);
  if (!seen) receiver.seen.set(room, (seen = new Map()));

  const from = connection.opened.from[room];
  if (seen.has(seq)) {
    // Resuming from an older cursor on purpose asks for the entries after it again, once each, in order.
    const askedAgain = connection.opened.resume === 'older' && from !== undefined && seq > from && (state.last === undefined || seq > state.last);
    if (!askedAgain) anomalies.add('delivered-twice', frameIds(frame), `${frame.client} got seq ${seq} of room ${room} again, on ${frame.connection}`);
  } else if ((state.last !== undefined && seq < state.last) || (state.start !== undefined && seq <= state.start)) {
    const after = state.last !== undefined && seq < state.last ? `after seq ${state.last}` : `at or before its starting position ${state.start}`;
    anomalies.add('delivered-out-of-order', frameIds(frame), `${frame.client} got seq ${seq} of room ${room} on ${frame.connection} ${after}`);
  }
  if (!seen.has(seq)) seen.set(seq, frame.t);
  state.last = Math.max(state.last ?? seq, seq);
  extendChain(receiver, room, seq, frame.t);
}

/** How a delivered entry differs from its stored row; a message may come with any text it has had (edits, deletion). */
function deliveryProblems(frame: FrameReceived, row: StoredRow, stored: StoredLog, sends: ReadonlyMap<string, LogicalSend>): string[] {
  const problems: string[] = [];
  if (frame.type !== row.kind) problems.push(`type ${frame.type}, stored ${row.kind}`);
  if (frame.clientMsgId !== row.clientMsgId) problems.push(`clientMsgId ${frame.clientMsgId}, stored ${row.clientMsgId}`);
  if (frame.senderId !== undefined && frame.senderId !== row.senderId) problems.push(`sender ${frame.senderId}, stored ${row.senderId}`);
  if (row.kind !== 'message' && frame.target !== (row.target ?? undefined)) problems.push(`target ${frame.target}, stored ${row.target}`);
  if (frame.deleted && !row.deleted) problems.push('marked deleted, but the row is not');
  if (row.kind === 'message_edited' && frame.text !== row.text) problems.push(`text ${JSON.stringify(frame.text)}, stored ${JSON.stringify(row.text)}`);
  if (row.kind === 'message' && frame.type === 'message') {
    const texts = messageVersions(row, stored, sends);
    if (texts && !texts.has(frame.text ?? '')) problems.push(`text ${JSON.stringify(frame.text)}, stored ${JSON.stringify(row.text)}`);
  }
  return problems;
}

/**
 * Every text a stored message has had: as sent, as each edit left it, '' once deleted. Undefined when the message
 * changed but its send is not in the history: the first text is unknown, and the text is then not judged.
 */
function messageVersions(row: StoredRow, stored: StoredLog, sends: ReadonlyMap<string, LogicalSend>): Set<string> | undefined {
  if (!row.edited && !row.deleted) return new Set([row.text]);
  const send = sends.get(sendKey(row.room, row.senderId, row.clientMsgId));
  if (!send) return undefined;
  const texts = new Set([...send.texts, row.text, ...stored.editsOf(row).map((edit) => edit.text)]);
  if (row.deleted) texts.add('');
  return texts;
}

/**
 * The stored entries a chain owed its receiver and that never arrived, as ranges of seqs; `owedFrom`: an acked
 * message it owed below its guessed start.
 */
function reportChainGaps(receiver: Receiver, room: string, chain: Chain, owedFrom: number | undefined, stored: StoredLog, anomalies: AnomalyLog): void {
  if (chain.start === undefined) return;
  const start = Math.min(chain.start, (owedFrom ?? Infinity) - 1);
  const seen = receiver.seen.get(room) ?? new Map<number, number>();
  const to = Math.min(chain.end, stored.maxSeq(room));
  let missingFrom: number | undefined;
  const report = (last: number) => {
    anomalies.add(
      'delivery-gap',
      { client: receiver.client, room, seq: missingFrom!, toSeq: last },
      `${receiver.client} followed room ${room} from seq ${start + 1} to ${chain.end} but never got seq ${range(missingFrom!, last)}`,
    );
    missingFrom = undefined;
  };
  for (let seq = start + 1; seq <= to; seq++) {
    const missing = stored.at(room, seq) !== undefined && !seen.has(seq);
    if (missing) missingFrom ??= seq;
    else if (missingFrom !== undefined) report(seq - 1);
  }
  if (missingFrom !== undefined) report(to);
}
