import type { StoredRow, StoredState } from '../history';
import type { AnomalyLog } from './anomalies';

export const positionKey = (room: string, seq: number) => `${room}#${seq}`;
/** What the server dedupes sends by: the same clientMsgId from the same user in the same room is one entry. */
export const sendKey = (room: string, user: string, clientMsgId: string) => `${room}#${user}#${clientMsgId}`;

/** The stored state, indexed the ways the checks look rows up. */
export class StoredLog {
  private readonly byPosition = new Map<string, StoredRow>();
  private readonly byKey = new Map<string, StoredRow[]>();
  /** Edit rows per edited message, in seq order. */
  private readonly editsByTarget = new Map<string, StoredRow[]>();
  /** Each room's stored seqs, ascending (duplicates kept, as stored). */
  private readonly seqsByRoom = new Map<string, number[]>();
  private readonly roomsByMember = new Map<string, Set<string>>();
  readonly lastSeqByRoom = new Map<string, number>();

  constructor(readonly state: StoredState) {
    const rows = [...state.rows].sort((a, b) => (a.room === b.room ? a.seq - b.seq : a.room < b.room ? -1 : 1));
    for (const row of rows) {
      if (!this.byPosition.has(positionKey(row.room, row.seq))) this.byPosition.set(positionKey(row.room, row.seq), row);
      push(this.byKey, sendKey(row.room, row.senderId, row.clientMsgId), row);
      push(this.seqsByRoom, row.room, row.seq);
      if (row.kind === 'message_edited' && row.target !== null) push(this.editsByTarget, positionKey(row.room, row.target), row);
    }
    for (const room of state.rooms) {
      this.lastSeqByRoom.set(room.room, room.lastSeq);
      for (const member of room.members) {
        const rooms = this.roomsByMember.get(member) ?? new Set<string>();
        rooms.add(room.room);
        this.roomsByMember.set(member, rooms);
      }
    }
  }

  at(room: string, seq: number): StoredRow | undefined {
    return this.byPosition.get(positionKey(room, seq));
  }

  rowsOf(room: string, user: string, clientMsgId: string): StoredRow[] {
    return this.byKey.get(sendKey(room, user, clientMsgId)) ?? [];
  }

  rowsByKey(): IterableIterator<[string, StoredRow[]]> {
    return this.byKey.entries();
  }

  editsOf(row: StoredRow): StoredRow[] {
    return this.editsByTarget.get(positionKey(row.room, row.seq)) ?? [];
  }

  roomsOfMember(user: string): ReadonlySet<string> {
    return this.roomsByMember.get(user) ?? new Set();
  }

  isMember(user: string, room: string): boolean {
    return this.roomsOfMember(user).has(room);
  }

  maxSeq(room: string): number {
    const seqs = this.seqsByRoom.get(room);
    return seqs && seqs.length > 0 ? seqs[seqs.length - 1]! : 0;
  }

  /** How many stored entries of the room have a seq in from..to (inclusive). */
  countBetween(room: string, from: number, to: number): number {
    const seqs = this.seqsByRoom.get(room);
    if (!seqs || from > to) return 0;
    return upperBound(seqs, to) - lowerBound(seqs, from);
  }

  /** Rooms with rows or a counter. */
  rooms(): Set<string> {
    return new Set([...this.seqsByRoom.keys(), ...this.lastSeqByRoom.keys()]);
  }

  seqsOf(room: string): readonly number[] {
    return this.seqsByRoom.get(room) ?? [];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The first index whose value is >= `value` in an ascending array. */
export function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first index whose value is > `value` in an ascending array. */
export function upperBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Every room's log is dense: seqs 1..n, each once, ending at the room's counter. */
export function checkLogsDense(stored: StoredLog, anomalies: AnomalyLog): void {
  for (const room of stored.rooms()) {
    const seqs = stored.seqsOf(room);
    let expected = 1;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i]!;
      if (i > 0 && seq === seqs[i - 1]) {
        anomalies.add('log-duplicate-seq', { room, seq }, `room ${room} stores seq ${seq} more than once`);
        continue;
      }
      if (seq > expected) {
        anomalies.add('log-gap', { room, seq: expected, toSeq: seq - 1 }, `room ${room} has no entry at seq ${range(expected, seq - 1)}`);
      }
      expected = seq + 1;
    }
    const lastSeq = stored.lastSeqByRoom.get(room);
    if (lastSeq !== undefined && lastSeq >= expected) {
      anomalies.add(
        'log-gap',
        { room, seq: expected, toSeq: lastSeq },
        `room ${room}'s counter is at ${lastSeq} but its log ends at ${expected - 1}: no entry at seq ${range(expected, lastSeq)}`,
      );
    }
  }
}

export function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}..${to}`;
}
