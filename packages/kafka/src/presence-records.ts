import type { UserRef } from '@chat/protocol';

/** One gateway's count of one user's connections; `connections: 0` means the user left that gateway. */
export interface HeartbeatRecord {
  gateway: string;
  user: UserRef;
  connections: number;
  /** How long this report holds without a newer one (a gateway that died stops sending). */
  ttlMs: number;
}

export interface PresenceRecord {
  user: UserRef;
  status: 'online' | 'offline';
}

export function encodeHeartbeat(record: HeartbeatRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export function decodeHeartbeat(value: Buffer | null): HeartbeatRecord | null {
  if (!value) return null;
  try {
    const record = JSON.parse(value.toString('utf8')) as Partial<HeartbeatRecord>;
    if (
      typeof record.gateway !== 'string' ||
      typeof record.user?.id !== 'string' ||
      typeof record.user?.name !== 'string' ||
      !Number.isSafeInteger(record.connections) ||
      !Number.isSafeInteger(record.ttlMs)
    ) {
      return null;
    }
    return record as HeartbeatRecord;
  } catch {
    return null;
  }
}

export function encodePresence(record: PresenceRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export function decodePresence(value: Buffer | null): PresenceRecord | null {
  if (!value) return null;
  try {
    const record = JSON.parse(value.toString('utf8')) as Partial<PresenceRecord>;
    if (typeof record.user?.id !== 'string' || typeof record.user?.name !== 'string') return null;
    if (record.status !== 'online' && record.status !== 'offline') return null;
    return record as PresenceRecord;
  } catch {
    return null;
  }
}
