import type { TypingEvent } from '@chat/protocol';

/** Ephemeral room events: every gateway delivers them to its streams of the room, nothing stores them. */
export interface EphemeralLog {
  typing(event: TypingEvent): Promise<void>;
}
