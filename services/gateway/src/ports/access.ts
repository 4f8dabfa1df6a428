import { ClientError } from '@chat/runtime';

/** Whether a user is a member of a room, as a store or a cache answers it. */
export type Membership = 'member' | 'not_member' | 'no_room';

export interface RoomAccess {
  membership: Membership;
  lastSeq: number;
}

/** Whether a user may write to a room, as sends and typing ask it (the membership cache, or the store itself). */
export interface MemberCheck {
  membership(roomId: string, userId: string): Promise<Membership>;
}

/** The contract's answer to anyone but a member: 404 for a room that does not exist, 403 for one that does. */
export function requireMembership(membership: Membership, roomId: string): void {
  if (membership === 'no_room') throw new ClientError('not_found', `unknown room ${roomId}`);
  if (membership === 'not_member') throw new ClientError('forbidden', `not a member of room ${roomId}`);
}
