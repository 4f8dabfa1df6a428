import type { MembershipRecord } from '@chat/kafka';

/** Tells every gateway that a user joined or left a room, so their open all-rooms streams add or drop it. */
export interface MembershipLog {
  memberJoined(record: MembershipRecord): Promise<void>;
  memberLeft(record: Omit<MembershipRecord, 'lastSeq'>): Promise<void>;
}
