import type { HeartbeatRecord } from '@chat/kafka';

/** Where this gateway's connection counts go: the heartbeats topic, which the presence service reads. */
export interface PresenceLog {
  heartbeat(record: HeartbeatRecord): Promise<void>;
}
