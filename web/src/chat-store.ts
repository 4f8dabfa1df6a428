import { ChatClient, type ConnectionStatus, type TransportName } from '@chat/client';
import type { RoomLogEntry, RoomSummary, UserRef } from '@chat/protocol';
import { ChatApi, newId, type Session } from './api';
import { applyEntries, emptyLog, type RoomLog } from './room-log';
import { expireTyping, withTyping, type TypingByRoom } from './typing-state';

export interface PendingMessage {
  room: string;
  clientMsgId: string;
  text: string;
  /** sending: queued or in flight; sent: acknowledged, waiting for its event; failed: refused, can be retried. */
  state: 'sending' | 'sent' | 'failed';
  error?: string;
}

export interface ChatState {
  me: UserRef;
  status: ConnectionStatus;
  rooms: RoomSummary[];
  activeRoomId: string | undefined;
  logs: ReadonlyMap<string, RoomLog>;
  loadingOlder: boolean;
  pending: PendingMessage[];
  online: ReadonlyMap<string, UserRef[]>;
  /** Per room: who is typing, until when (epoch ms). */
  typing: TypingByRoom;
  notice: string | undefined;
}

const TYPING_SHOWN_MS = 4_000;
const TYPING_SENT_EVERY_MS = 2_000;
const ONLINE_REFRESH_MIN_MS = 2_000;

/**
 * Everything the screens show, and every action they take. Live events come
 * from the SDK (which resumes, dedupes and queues sends); history, rooms and
 * presence snapshots from the REST API. Listeners get a new state object on
 * every change.
 */
export class ChatStore {
  state: ChatState;
  readonly api: ChatApi;
  private readonly client: ChatClient;
  private readonly listeners = new Set<(state: ChatState) => void>();
  private lastTypingSent = 0;
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private typingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly readSeqs = new Map<string, number>();
  private readonly onlineFetchedAt = new Map<string, number>();

  constructor(session: Session, transports: TransportName[] | undefined) {
    this.api = new ChatApi(session.token);
    this.client = new ChatClient({ baseUrl: location.origin, getToken: () => session.token, transports });
    this.state = {
      me: session.user,
      status: this.client.status,
      rooms: [],
      activeRoomId: undefined,
      logs: new Map(),
      loadingOlder: false,
      pending: [],
      online: new Map(),
      typing: new Map(),
      notice: undefined,
    };
  }

  subscribe(listener: (state: ChatState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private update(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
  }

  start(): void {
    this.client.on('status', (status) => {
      const reopened = status.state === 'open' && this.state.status.state !== 'open';
      this.update({ status });
      if (reopened) this.attempt(this.catchUp());
    });
    this.client.on('message', (message) => {
      this.receive([message]);
      this.update({
        pending: this.state.pending.filter((p) => !(message.sender.id === this.state.me.id && p.clientMsgId === message.clientMsgId)),
        typing: withTyping(this.state.typing, message.room, message.sender, 0),
      });
      this.noticeActive(message.room, message.sender);
    });
    this.client.on('edit', (entry) => this.receive([entry]));
    this.client.on('delete', (entry) => this.receive([entry]));
    this.client.on('member_joined', (entry) => this.receive([entry]));
    this.client.on('member_left', (entry) => {
      this.receive([entry]);
      // Left on another device (the room's last event on this stream): it leaves the list here too.
      if (entry.user.id === this.state.me.id) this.attempt(this.refreshRooms(false));
    });
    this.client.on('presence', (event) => {
      const current = this.state.online.get(event.room);
      if (!current) return;
      const others = current.filter((user) => user.id !== event.user.id);
      const online = new Map(this.state.online).set(event.room, event.status === 'online' ? [...others, event.user] : others);
      this.update({ online });
    });
    this.client.on('typing', (event) => {
      this.update({ typing: withTyping(this.state.typing, event.room, event.user, Date.now() + TYPING_SHOWN_MS) });
      this.noticeActive(event.room, event.user);
    });
    this.typingTimer = setInterval(() => {
      const typing = expireTyping(this.state.typing, Date.now());
      if (typing !== this.state.typing) this.update({ typing });
    }, 1_000);
    this.client.start();
    this.attempt(this.refreshRooms(true));
  }

  stop(): void {
    this.client.stop();
    clearInterval(this.typingTimer);
    clearTimeout(this.readTimer);
  }

  /** Work started from an event rather than awaited: its failure is shown as the notice. */
  attempt(work: Promise<unknown>): void {
    work.catch((error: Error) => this.update({ notice: error.message }));
  }

  dismissNotice(): void {
    this.update({ notice: undefined });
  }

  /** Folds log entries into their room; counts unread ones elsewhere and learns of rooms it did not know. */
  private receive(entries: RoomLogEntry[]): void {
    const logs = new Map(this.state.logs);
    let unknownRoom = false;
    let rooms = this.state.rooms;
    for (const entry of entries) {
      logs.set(entry.room, applyEntries(logs.get(entry.room) ?? emptyLog(), [entry]));
      if (!rooms.some((room) => room.id === entry.room)) unknownRoom = true;
      const counts = entry.type === 'message' && entry.room !== this.state.activeRoomId && entry.sender.id !== this.state.me.id;
      rooms = rooms.map((room) =>
        room.id === entry.room ? { ...room, lastSeq: Math.max(room.lastSeq, entry.seq), unread: room.unread + (counts ? 1 : 0) } : room,
      );
    }
    this.update({ logs, rooms });
    if (unknownRoom) this.attempt(this.refreshRooms(false));
    this.scheduleRead();
  }

  async refreshRooms(selectFirst: boolean): Promise<void> {
    try {
      // The room on screen is being read: its count from the server may predate the last read update.
      const rooms = (await this.api.rooms()).map((room) => (room.id === this.state.activeRoomId ? { ...room, unread: 0 } : room));
      this.update({ rooms });
      this.scheduleRead();
      for (const room of rooms) if (room.kind === 'dm' && !this.state.online.has(room.id)) this.attempt(this.loadOnline(room.id));
      const wanted = location.hash.slice(1);
      if (selectFirst && !this.state.activeRoomId && rooms.length > 0) {
        this.select(rooms.find((room) => room.id === wanted)?.id ?? rooms[0]!.id);
      }
    } catch (error) {
      this.update({ notice: (error as Error).message });
    }
  }

  select(roomId: string): void {
    this.markActiveRoomRead();
    history.replaceState(null, '', `${location.search}#${roomId}`);
    this.update({ activeRoomId: roomId });
    const log = this.state.logs.get(roomId);
    if (log?.oldestSeq === undefined) this.attempt(this.loadPage(roomId));
    this.attempt(this.loadOnline(roomId));
    this.scheduleRead();
  }

  private async loadPage(roomId: string, before?: number): Promise<void> {
    const entries = await this.api.history(roomId, { before });
    const log = applyEntries(this.state.logs.get(roomId) ?? emptyLog(), entries, { fromHistory: true });
    // An empty room has nothing older: mark the beginning as reached.
    if (entries.length === 0) log.oldestSeq = 1;
    this.update({ logs: new Map(this.state.logs).set(roomId, log) });
    this.scheduleRead();
  }

  async loadOlder(): Promise<void> {
    const roomId = this.state.activeRoomId;
    const oldest = roomId && this.state.logs.get(roomId)?.oldestSeq;
    if (!roomId || !oldest || oldest <= 1 || this.state.loadingOlder) return;
    this.update({ loadingOlder: true });
    try {
      await this.loadPage(roomId, oldest);
    } catch (error) {
      this.update({ notice: (error as Error).message });
    } finally {
      this.update({ loadingOlder: false });
    }
  }

  /** The stream resumes from its cursor; this covers the first open, whose start may follow the history fetch. */
  private async catchUp(): Promise<void> {
    for (const [roomId, log] of this.state.logs) {
      if (log.oldestSeq === undefined) continue;
      const entries = await this.api.history(roomId, { after: log.lastSeq }).catch(() => []);
      if (entries.length > 0) this.receive(entries);
    }
  }

  private async loadOnline(roomId: string): Promise<void> {
    const users = await this.api.online(roomId);
    this.update({ online: new Map(this.state.online).set(roomId, users) });
  }

  /**
   * Presence events announce changes of a user's status, so someone who was already
   * online when they joined a room is not announced there; their first message or
   * typing in it prompts a fresh look.
   */
  private noticeActive(roomId: string, user: UserRef): void {
    const online = this.state.online.get(roomId);
    if (!online || online.some((member) => member.id === user.id)) return;
    const last = this.onlineFetchedAt.get(roomId) ?? 0;
    if (Date.now() - last < ONLINE_REFRESH_MIN_MS) return;
    this.onlineFetchedAt.set(roomId, Date.now());
    this.loadOnline(roomId).catch(() => undefined);
  }

  /** At most one read position update per 300 ms, however fast entries arrive. */
  private scheduleRead(): void {
    if (this.readTimer !== undefined) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = undefined;
      this.markActiveRoomRead();
    }, 300);
  }

  /** Moves the read position of the room on screen to its last entry (only forward, once per seq). */
  private markActiveRoomRead(): void {
    const roomId = this.state.activeRoomId;
    const room = this.state.rooms.find((r) => r.id === roomId);
    if (!room || document.visibilityState !== 'visible') return;
    const lastSeq = Math.max(room.lastSeq, this.state.logs.get(room.id)?.lastSeq ?? 0);
    if (room.unread > 0) this.update({ rooms: this.state.rooms.map((r) => (r.id === room.id ? { ...r, unread: 0 } : r)) });
    if (lastSeq === 0 || (this.readSeqs.get(room.id) ?? 0) >= lastSeq) return;
    this.readSeqs.set(room.id, lastSeq);
    this.api.markRead(room.id, lastSeq).catch(() => undefined);
  }

  send(text: string): void {
    const room = this.state.activeRoomId;
    if (!room) return;
    const pending: PendingMessage = { room, clientMsgId: newId(), text, state: 'sending' };
    this.update({ pending: [...this.state.pending, pending] });
    this.deliver(pending);
  }

  /** Retries with the same clientMsgId, so a message that did get through is not made twice. */
  retry(clientMsgId: string): void {
    const pending = this.state.pending.find((p) => p.clientMsgId === clientMsgId);
    if (pending) this.deliver(pending);
  }

  discard(clientMsgId: string): void {
    this.update({ pending: this.state.pending.filter((p) => p.clientMsgId !== clientMsgId) });
  }

  private deliver(pending: PendingMessage): void {
    const setState = (state: PendingMessage['state'], error?: string) =>
      this.update({ pending: this.state.pending.map((p) => (p.clientMsgId === pending.clientMsgId ? { ...p, state, error } : p)) });
    setState('sending');
    this.client.send(pending.room, pending.text, pending.clientMsgId).then(
      () => setState('sent'),
      (error: Error) => setState('failed', error.message),
    );
  }

  edit(seq: number, text: string): void {
    if (this.state.activeRoomId) this.attempt(this.api.edit(this.state.activeRoomId, seq, text));
  }

  remove(seq: number): void {
    if (this.state.activeRoomId) this.attempt(this.api.remove(this.state.activeRoomId, seq));
  }

  typing(): void {
    const room = this.state.activeRoomId;
    if (!room || Date.now() - this.lastTypingSent < TYPING_SENT_EVERY_MS) return;
    this.lastTypingSent = Date.now();
    this.client.typing(room);
  }

  async createRoom(name: string): Promise<void> {
    const room = await this.api.createRoom(name);
    await this.refreshRooms(false);
    this.select(room.id);
  }

  async joinRoom(roomId: string): Promise<void> {
    const room = await this.api.joinRoom(roomId);
    await this.refreshRooms(false);
    this.select(room.id);
  }

  openDirectRoom(userId: string): void {
    this.attempt(
      (async () => {
        const room = await this.api.openDirectRoom(userId);
        await this.refreshRooms(false);
        this.select(room.id);
      })(),
    );
  }
}
