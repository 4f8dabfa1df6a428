import type { ErrorBody, Room, RoomLogEntry, RoomSummary, UserRef } from '@chat/protocol';

export interface Session {
  token: string;
  user: UserRef;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, token: string | undefined, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await response.json().catch(() => ({}))) as T & Partial<ErrorBody>;
  if (!response.ok) throw new ApiError(response.status, json.error?.code ?? 'unavailable', json.error?.message ?? `HTTP ${response.status}`);
  return json;
}

export const HISTORY_PAGE = 50;

/** crypto.randomUUID exists only in secure contexts; a plain-http LAN address is not one. */
export function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** The REST half of the contract (docs/protocol.md §1, §2, §7); streams and sends go through the SDK. */
export class ChatApi {
  constructor(private readonly token: string) {}

  static login(username: string): Promise<Session> {
    return call<Session>('POST', '/api/login', undefined, { username });
  }

  /** Ends this user's sessions on every gateway: every tab's token stops working, and their streams end. */
  async signOut(): Promise<void> {
    await call('POST', '/api/logout', this.token);
  }

  async rooms(): Promise<RoomSummary[]> {
    return (await call<{ rooms: RoomSummary[] }>('GET', '/api/rooms', this.token)).rooms;
  }

  async createRoom(name: string): Promise<Room> {
    return (await call<{ room: Room }>('POST', '/api/rooms', this.token, { name })).room;
  }

  async joinRoom(roomId: string): Promise<Room> {
    return (await call<{ room: Room }>('POST', `/api/rooms/${encodeURIComponent(roomId)}/join`, this.token)).room;
  }

  async openDirectRoom(userId: string): Promise<Room> {
    return (await call<{ room: Room }>('POST', '/api/dms', this.token, { userId })).room;
  }

  /** The latest page, the page just before `before`, or the entries after `after`. */
  async history(roomId: string, at: { before?: number; after?: number } = {}): Promise<RoomLogEntry[]> {
    const query = new URLSearchParams({ limit: String(at.after === undefined ? HISTORY_PAGE : 200) });
    if (at.before !== undefined) query.set('before', String(at.before));
    if (at.after !== undefined) query.set('after', String(at.after));
    return (await call<{ messages: RoomLogEntry[] }>('GET', `/api/rooms/${roomId}/messages?${query}`, this.token)).messages;
  }

  async online(roomId: string): Promise<UserRef[]> {
    return (await call<{ online: UserRef[] }>('GET', `/api/rooms/${roomId}/presence`, this.token)).online;
  }

  async markRead(roomId: string, seq: number): Promise<void> {
    await call('POST', `/api/rooms/${roomId}/read`, this.token, { seq });
  }

  async edit(roomId: string, seq: number, text: string): Promise<void> {
    await call('PATCH', `/api/rooms/${roomId}/messages/${seq}`, this.token, { clientMsgId: newId(), text });
  }

  async remove(roomId: string, seq: number): Promise<void> {
    await call('DELETE', `/api/rooms/${roomId}/messages/${seq}`, this.token);
  }
}
