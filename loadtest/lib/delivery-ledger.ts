/**
 * What one receiver got, room by room: the exact accounting every k6 scenario
 * reports. Plain code with no k6 or Node APIs, so node:test checks it directly.
 *
 * Loss is exact because a room's seqs are dense: a stream that opened at position
 * `start` (its ready cursor) and stayed open until the room went quiet must hold
 * every seq in (start, lastSeq], where lastSeq is the room's last seq read after
 * the drain period. Whatever is missing there is lost; a seq seen twice (or one at
 * or before `start`) is a duplicate; a seq below one already seen is out of order.
 * Entries other than messages (other VUs' joins) fill their seqs without counting
 * as deliveries: the acks expect messages.
 */

interface RoomRecord {
  start: number;
  seen: Set<number>;
  /** The seen seqs that were not messages. */
  passed: Set<number>;
  highest: number;
}

export interface RoomTally {
  room: string;
  /** Deliveries the receiver should have had: lastSeq − start, less the entries that are no messages. */
  expected: number;
  /** Distinct messages received inside (start, lastSeq]. */
  delivered: number;
  lost: number;
}

export type Arrival = 'new' | 'duplicate' | 'reordered';

export class DeliveryLedger {
  private readonly rooms = new Map<string, RoomRecord>();
  duplicates = 0;
  reorders = 0;

  /** The receiver's stream opened at `start` in `room` (from its ready cursor). */
  open(room: string, start: number): void {
    if (!this.rooms.has(room)) this.rooms.set(room, { start, seen: new Set(), passed: new Set(), highest: start });
  }

  /** One entry of the log arrived (`message` unless told); says how it counts. */
  receive(room: string, seq: number, kind: 'message' | 'other' = 'message'): Arrival {
    const record = this.rooms.get(room);
    if (!record) throw new Error(`a message for room ${room}, which this receiver never opened`);
    if (seq <= record.start || record.seen.has(seq)) {
      this.duplicates++;
      return 'duplicate';
    }
    record.seen.add(seq);
    if (kind === 'other') record.passed.add(seq);
    if (seq < record.highest) {
      this.reorders++;
      return 'reordered';
    }
    record.highest = seq;
    return 'new';
  }

  /** The room's last seq once every send was acknowledged and the drain period passed. */
  settle(room: string, lastSeq: number): RoomTally {
    const record = this.rooms.get(room);
    if (!record) throw new Error(`room ${room} was never opened`);
    let passed = 0;
    for (const seq of record.passed) if (seq <= lastSeq) passed++;
    const expected = Math.max(0, lastSeq - record.start - passed);
    let delivered = 0;
    for (const seq of record.seen) if (seq <= lastSeq && !record.passed.has(seq)) delivered++;
    return { room, expected, delivered, lost: expected - delivered };
  }
}

/** Texts the load test sends carry the sender's clock, so receivers can time delivery. */
export function probeText(sentAtMs: number, sender: number, n: number): string {
  return `k6 ${sentAtMs} ${sender}-${n}`;
}

/** The send time inside a probe text, or undefined for any other text. */
export function probeSentAt(text: string): number | undefined {
  const match = /^k6 (\d+) /.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** VU n (1-based) sits in room (n − 1) mod rooms. */
export function roomIndexOfVu(vu: number, rooms: number): number {
  return (vu - 1) % rooms;
}

/** How many of `vus` VUs share room `index`: each of them receives every message sent there. */
export function membersOfRoom(index: number, vus: number, rooms: number): number {
  return Math.floor(vus / rooms) + (index < vus % rooms ? 1 : 0);
}
