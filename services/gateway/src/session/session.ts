import { DISCONNECT, encodeCursor, type Disconnect, type MembershipEvent, type RoomLogEntry } from '@chat/protocol';
import type { RoomEventRecord } from '@chat/kafka';
import { failpoint, type Logger } from '@chat/runtime';
import type { RoomStore } from '../ports/room-store';
import type { Principal } from '../ports/principal';
import type { EphemeralEvent, Hub, MembershipListener, RoomListener } from './hub';
import { catchUpStep } from './catch-up';
import { OutgoingEvent } from './outgoing-event';
import type { StreamPlan } from './stream-plan';

/** What a transport adapter gives the session: where events go, and how to end the stream. */
export interface StreamOutput {
  /** One event at the stream position after it; possibly the same object other streams are sent. */
  push(event: OutgoingEvent): void;
  /** Ends the stream as the catalog says; the session gives up with `unavailable` (e.g. Postgres unreachable). */
  close(disconnect: Disconnect): void;
}

export interface SessionDeps {
  hub: Hub;
  store: RoomStore;
  logger: Logger;
  /** Messages fetched per room per query while catching up. */
  pageSize?: number;
  /** Counts each log entry delivered. */
  onDelivered?: () => void;
  /**
   * A join or leave read from Postgres while catching up: its live record may never have reached this gateway (a
   * lost publish), so the gateway acts on it as on one from the feed (FeedRouter.membershipRead).
   */
  onMembershipRead?: (entry: MembershipEvent) => void;
}

interface RoomState {
  /** Seq of the last message delivered (or skipped as "before now"). */
  position: number;
  /** While true, live events wait in `buffered` until Postgres has filled the gap before them. */
  catchingUp: boolean;
  buffered: RoomEventRecord[];
  /** Catch-ups in a row that ended before a hole; bounded (then the stream ends for a resync) so none loops forever. */
  holeRounds: number;
  /**
   * Set by the user's own `member_left`, the room's last entry on this stream, until their own `member_joined`:
   * meanwhile the room's entries pass (the position moves on) and nothing of the room reaches the client.
   */
  left: boolean;
}
const READY_JSON = '{"type":"ready"}';

/** `userId`: whom a membership entry is about. */
type DeliveredEntry = { type: RoomLogEntry['type']; seq: number; json: string; userId?: string };

/**
 * Each entry's event as the streams that cover only its room send it: they are all at the same cursor after
 * it, and a feed record is one object handed to every local stream, so they share one encoding (OutgoingEvent).
 */
const soloEvents = new WeakMap<DeliveredEntry, OutgoingEvent>();

/**
 * One client stream, whatever its transport: which rooms it covers, how far it
 * got in each, and the resume logic. A room's events reach the client in seq
 * order with no gap and no repeat: live events that arrive while a gap is
 * being served from Postgres wait in a buffer, and anything at or below the
 * room's position is dropped. The user's own joins and leaves are entries of
 * that order too, so a leave ends the room on every stream at exactly its seq,
 * however its entry arrived (live, or read to fill a hole).
 */
export class Session implements RoomListener, MembershipListener {
  private readonly rooms = new Map<string, RoomState>();
  /**
   * The cursor's content, kept up to date rather than rebuilt for every event: each covered
   * room's position, and the carried positions of rooms the stream does not cover now.
   */
  private readonly positions = new Map<string, number>();
  private readonly pageSize: number;
  private closed = false;
  private allRooms = false;

  constructor(
    readonly principal: Principal,
    private readonly deps: SessionDeps,
    private readonly output: StreamOutput,
  ) {
    this.pageSize = deps.pageSize ?? 500;
  }

  /** Registers for live events first, then serves each room's gap from Postgres. */
  async start(plan: StreamPlan): Promise<void> {
    for (const [room, seq] of plan.carried) this.positions.set(room, seq);
    this.allRooms = plan.allRooms;
    this.deps.hub.watchMemberships(this.principal.user.id, this);
    const rooms = this.register(plan.positions);
    // A client that receives nothing before it drops can still resume from here.
    this.output.push(new OutgoingEvent('ready', READY_JSON, this.cursor()));
    await this.catchUp(rooms);
  }

  /**
   * start() for a transport, which cannot wait for it: a failure ends this stream (its client resumes from its
   * cursor elsewhere or later), and is never a rejection that nobody handles.
   */
  begin(plan: StreamPlan): void {
    this.start(plan).catch((error: unknown) => {
      this.deps.logger.error({ err: error, user: this.principal.user.id }, 'a stream failed to start');
      this.output.close({ ...DISCONNECT.unavailable, reason: 'the stream could not start; resume with your cursor' });
    });
  }

  async addRooms(positions: ReadonlyMap<string, number>): Promise<void> {
    await this.catchUp(this.register(positions));
  }

  private register(positions: ReadonlyMap<string, number>): string[] {
    const added: string[] = [];
    for (const [room, position] of positions) {
      if (this.rooms.has(room)) continue;
      this.rooms.set(room, { position, catchingUp: true, buffered: [], holeRounds: 0, left: false });
      this.positions.set(room, position);
      this.deps.hub.add(room, this);
      added.push(room);
    }
    return added;
  }

  removeRooms(rooms: readonly string[]): void {
    for (const room of rooms) {
      const state = this.rooms.get(room);
      if (!state) continue;
      this.deps.hub.remove(room, this);
      // Its position stays in the cursor, so a later resume of this room continues where it stopped.
      this.rooms.delete(room);
    }
  }

  /** Cursor positions of rooms the stream does not cover now; a later subscribe resumes from them. */
  get carriedPositions(): ReadonlyMap<string, number> {
    return new Map([...this.positions].filter(([room]) => !this.rooms.has(room)));
  }

  /** The stream position now: every room's seq, carried rooms included. */
  cursor(): string {
    return encodeCursor(this.positions);
  }

  onRoomEvent(record: RoomEventRecord): void {
    const state = this.rooms.get(record.room);
    if (!state || this.closed) return;
    if (state.catchingUp) {
      state.buffered.push(record);
      return;
    }
    if (record.seq <= state.position) return;
    if (record.seq === state.position + 1) {
      this.deliver(record.room, state, record);
      return;
    }
    // A hole before this event (e.g. this gateway's feed restarted): fill it from Postgres first.
    state.catchingUp = true;
    state.buffered.push(record);
    this.catchUpLater([record.room]);
  }

  onRoomTail(room: string, lastSeq: number): boolean {
    const state = this.rooms.get(room);
    // A catch-up under way reads Postgres anyway; one that ends short of the tail is told again at the next check.
    if (!state || this.closed || state.catchingUp || lastSeq <= state.position) return false;
    state.catchingUp = true;
    this.catchUpLater([room]);
    return true;
  }

  onEphemeral(event: EphemeralEvent): void {
    const state = this.rooms.get(event.room);
    if (this.closed || !state || state.left) return;
    // A user's own typing is not echoed to their streams.
    if (event.type === 'typing' && event.userId === this.principal.user.id) return;
    this.output.push(new OutgoingEvent(event.type, event.json, this.cursor()));
  }

  onMemberLeft(room: string): void {
    this.removeRooms([room]);
  }

  onMemberJoined(room: string, after: number): void {
    if (this.closed || !this.allRooms || this.rooms.has(room)) return;
    // This stream covered the room past that seq, and stopped (an unsubscribe): the word of the join is old.
    if ((this.positions.get(room) ?? -1) > after) return;
    this.addJoinedRoom(room, after).catch((error: unknown) => {
      if (this.closed) return;
      this.deps.logger.warn({ err: error, user: this.principal.user.id, room }, 'a joined room could not be added');
      this.output.close(DISCONNECT.unavailable);
    });
  }

  /**
   * A word of a join can be old (read from history by another stream, or overtaken by a leave on the feed): the room
   * is added only while the user is a member, from the join on, so that the join is the room's first entry here.
   */
  private async addJoinedRoom(room: string, after: number): Promise<void> {
    const { membership } = await this.deps.store.access(room, this.principal.user.id);
    if (membership !== 'member' || this.closed || this.rooms.has(room)) return;
    await this.catchUp(this.register(new Map([[room, after]])));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const room of this.rooms.keys()) this.deps.hub.remove(room, this);
    this.deps.hub.unwatchMemberships(this.principal.user.id, this);
  }

  private deliver(room: string, state: RoomState, entry: DeliveredEntry): void {
    failpoint('gateway.before-deliver');
    state.position = entry.seq;
    this.positions.set(room, entry.seq);
    // Only membership entries name a user: the stream's own joins and leaves switch the room on and off, at their seq.
    const own = entry.userId === this.principal.user.id;
    if (state.left && !(own && entry.type === 'member_joined')) return;
    if (own) state.left = entry.type === 'member_left';
    this.output.push(this.positions.size === 1 ? this.soloEvent(entry) : new OutgoingEvent(entry.type, entry.json, this.cursor()));
    this.deps.onDelivered?.();
  }

  private soloEvent(entry: DeliveredEntry): OutgoingEvent {
    let event = soloEvents.get(entry);
    if (!event) {
      event = new OutgoingEvent(entry.type, entry.json, this.cursor());
      soloEvents.set(entry, event);
    }
    return event;
  }

  /** A catch-up started from an event rather than awaited: catchUp handles its own failures, and this its last resort. */
  private catchUpLater(rooms: readonly string[]): void {
    this.catchUp(rooms).catch((error: unknown) => this.deps.logger.error({ err: error, user: this.principal.user.id }, 'catch-up failed'));
  }

  private async catchUp(rooms: readonly string[]): Promise<void> {
    try {
      let pending = rooms.filter((room) => this.rooms.get(room)?.catchingUp);
      while (pending.length > 0 && !this.closed) {
        const positions = pending.map((room) => [room, this.rooms.get(room)!.position] as const);
        const page = await this.deps.store.messagesAfterMany(positions, this.pageSize);
        const served = new Map<string, DeliveredEntry[]>();
        for (const message of page) {
          const entries = served.get(message.room) ?? [];
          const userId = 'user' in message ? message.user.id : undefined;
          entries.push({ type: message.type, seq: message.seq, json: JSON.stringify(message), userId });
          served.set(message.room, entries);
          if ('user' in message) this.deps.onMembershipRead?.(message);
        }
        const again: string[] = [];
        for (const room of pending) {
          const entries = served.get(room) ?? [];
          if (this.applyPage(room, entries, entries.length === this.pageSize)) again.push(room);
        }
        pending = again;
      }
    } catch (error) {
      if (this.closed) return;
      this.deps.logger.warn({ err: error, user: this.principal.user.id }, 'catch-up from Postgres failed');
      this.output.close(DISCONNECT.unavailable);
    }
  }

  /**
   * Delivers what one page served of a room and, once history is exhausted, the live events that waited meanwhile
   * (catchUpStep holds the rule). True when the room needs another read: a full page, or a hole before a live event.
   */
  private applyPage(room: string, served: DeliveredEntry[], full: boolean): boolean {
    const state = this.rooms.get(room);
    if (!state || !state.catchingUp || this.closed) return false;
    const step = catchUpStep(state, served, full);
    state.buffered = step.buffered;
    state.holeRounds = step.holeRounds;
    state.catchingUp = step.next !== 'live';
    for (const { entry, skippedFrom } of step.deliver) {
      if (skippedFrom !== undefined) {
        this.deps.logger.error({ room, from: skippedFrom, to: entry.seq }, 'seqs missing from Postgres; skipping ahead');
      }
      this.deliver(room, state, entry);
    }
    if (step.next === 'resync') {
      const next = step.buffered[0]?.seq;
      this.deps.logger.error({ room, position: state.position, next, user: this.principal.user.id }, 'a hole before a live event did not fill; ending the stream for a resync');
      this.output.close(DISCONNECT.resync);
      this.close();
      return false;
    }
    return state.catchingUp;
  }
}
