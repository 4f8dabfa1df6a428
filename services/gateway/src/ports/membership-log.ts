import type { MembershipEvent } from '@chat/protocol';

/**
 * Hands a join or leave, already an entry of the room's log, to every gateway: on the room's event stream, as the
 * messaging service publishes the log's other entries. Best effort: a lost publish leaves a hole that every stream
 * of the room meets at the next entry, and reads from the log.
 */
export interface MembershipLog {
  publish(entry: MembershipEvent): Promise<void>;
}
