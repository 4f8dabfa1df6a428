import type { SendCommand } from '@chat/kafka';

/** The identity of a send: the same key never makes a second message. */
export function sendKey(room: string, senderId: string, clientMsgId: string): string {
  return `${room}\u0000${senderId}\u0000${clientMsgId}`;
}

/** Keeps the first of each (room, sender, clientMsgId) in the batch, in order. */
export function dedupeCommands(commands: readonly SendCommand[]): SendCommand[] {
  const seen = new Set<string>();
  const unique: SendCommand[] = [];
  for (const command of commands) {
    const key = sendKey(command.room, command.sender.id, command.clientMsgId);
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(command);
  }
  return unique;
}

/**
 * Gives each new message of a room the next seq after `lastSeqBefore`, in
 * arrival order: seqs are dense and follow the order of the room's partition.
 */
export function assignRoomSeqs<T extends { room: string }>(
  fresh: readonly T[],
  lastSeqBefore: ReadonlyMap<string, number>,
): Array<T & { seq: number }> {
  const next = new Map(lastSeqBefore);
  return fresh.map((item) => {
    const seq = (next.get(item.room) ?? 0) + 1;
    next.set(item.room, seq);
    return { ...item, seq };
  });
}

/** How many new messages each room gets: the amount to advance its counter by. */
export function countPerRoom(fresh: readonly { room: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { room } of fresh) counts.set(room, (counts.get(room) ?? 0) + 1);
  return counts;
}

/** What an edit or delete needs to know of the message it names. */
export interface TargetState {
  senderId: string;
  deleted: boolean;
}

export function targetKey(room: string, seq: number): string {
  return `${room}\u0000${seq}`;
}

/**
 * Keeps the commands that may be applied, in order: every send; an edit or
 * delete only of an existing message, by its own sender, not yet deleted
 * (a delete earlier in the same batch counts). `targets` is updated.
 */
export function applicableCommands(commands: readonly SendCommand[], targets: Map<string, TargetState>): SendCommand[] {
  return commands.filter((command) => {
    const kind = command.kind ?? 'message';
    if (kind === 'message') return true;
    const target = targets.get(targetKey(command.room, command.target!));
    if (!target || target.deleted || target.senderId !== command.sender.id) return false;
    if (kind === 'message_deleted') target.deleted = true;
    return true;
  });
}
