import type { Logger } from '@chat/runtime';
import type { RoomStore } from '../ports/room-store';
import type { Hub } from './hub';

/** Rooms per query: a statement of bounded size however many rooms have streams here. */
const ROOMS_PER_QUERY = 5_000;

export interface TailCheckDeps {
  hub: Pick<Hub, 'roomIds' | 'fedSeq' | 'tail'>;
  store: Pick<RoomStore, 'lastSeqs'>;
  logger: Logger;
  intervalMs: number;
  /**
   * How long the feed gets to bring a seq that Postgres already shows: it commits before Kafka publishes, so a room
   * read between the two looks behind for a moment without being so.
   */
  graceMs?: number;
}

/**
 * A stream learns of a hole in the live feed from the room's next event; when the lost record was the room's last
 * one, a quiet room would hide it until someone speaks. Every `intervalMs`, this reads the last seq of every room
 * with streams on this gateway (one query per interval for the whole gateway, not one per stream or room) and
 * compares it with the highest seq the feed delivered here. A room Postgres shows further, still so after the grace,
 * lost its tail on this gateway's feed: its streams that are behind read the rest from Postgres (Session.onRoomTail).
 */
export class TailCheck {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly graceMs: number;

  constructor(private readonly deps: TailCheckDeps) {
    this.graceMs = deps.graceMs ?? 1_000;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = true;
      this.check()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'tail check failed'))
        .finally(() => (this.running = false));
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round; returns the rooms that had streams behind, which now read the rest. */
  async check(): Promise<string[]> {
    const { hub, store } = this.deps;
    const rooms = hub.roomIds();
    const suspects: Array<[string, number]> = [];
    for (let i = 0; i < rooms.length; i += ROOMS_PER_QUERY) {
      for (const [room, lastSeq] of await store.lastSeqs(rooms.slice(i, i + ROOMS_PER_QUERY))) {
        if (lastSeq > hub.fedSeq(room)) suspects.push([room, lastSeq]);
      }
    }
    if (suspects.length === 0) return [];
    await new Promise((resolve) => setTimeout(resolve, this.graceMs));
    const behind: string[] = [];
    for (const [room, lastSeq] of suspects) {
      if (hub.fedSeq(room) >= lastSeq) continue;
      // A room that no entry reached since its streams came (a quiet one) is told too: its streams started at or
      // past the tail, so each finds it has nothing to read, at the cost of a comparison.
      if (hub.tail(room, lastSeq) > 0) behind.push(room);
    }
    if (behind.length > 0) {
      this.deps.logger.warn({ rooms: behind.length, sample: behind.slice(0, 5) }, "the event feed did not bring rooms' last entries; their streams read them from Postgres");
    }
    return behind;
  }
}
