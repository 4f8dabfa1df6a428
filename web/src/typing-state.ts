import type { UserRef } from '@chat/protocol';

/** Per room: who is typing, and until when (epoch ms) the indicator shows. */
export type TypingByRoom = ReadonlyMap<string, ReadonlyMap<string, { name: string; until: number }>>;

/** Shows `user` typing in `roomId` until `until`; an `until` in the past clears them (their message arrived). */
export function withTyping(typing: TypingByRoom, roomId: string, user: UserRef, until: number, now = Date.now()): TypingByRoom {
  const inRoom = new Map(typing.get(roomId));
  if (until > now) inRoom.set(user.id, { name: user.name, until });
  else if (!inRoom.delete(user.id)) return typing;
  return new Map(typing).set(roomId, inRoom);
}

/** Drops indicators that ran out; returns the same map when none did, so nothing re-renders. */
export function expireTyping(typing: TypingByRoom, now: number): TypingByRoom {
  let changed = false;
  const next = new Map<string, Map<string, { name: string; until: number }>>();
  for (const [roomId, users] of typing) {
    const live = new Map([...users].filter(([, entry]) => entry.until > now));
    changed ||= live.size !== users.size;
    next.set(roomId, live);
  }
  return changed ? next : typing;
}
