import type { SendCommand } from '@chat/kafka';

/** Where accepted sends, edits and deletes go. Resolves once the command is durable (acks=all). */
export interface CommandLog {
  append(command: SendCommand): Promise<void>;
}
