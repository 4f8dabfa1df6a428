import type { MembershipEvent, Message, MessageDeletedEvent, MessageEditedEvent, RoomLogEntry } from '@chat/protocol';

type Change = MessageEditedEvent | MessageDeletedEvent;

/** What the app knows of one room's log: the messages loaded so far, with every edit and delete applied. */
export interface RoomLog {
  /** Ascending seq; edits and deletes are folded into their targets, not listed. */
  messages: Message[];
  /** Joins and leaves, ascending seq: shown between the messages as lines of their own. */
  memberships: MembershipEvent[];
  /** The highest seq seen, of any entry. */
  lastSeq: number;
  /** The lowest seq loaded from history; undefined until the first page arrives. */
  oldestSeq: number | undefined;
  /** The latest change per target seq, kept so that a target loaded later still shows it. */
  changes: Map<number, Change>;
}

export function emptyLog(): RoomLog {
  return { messages: [], memberships: [], lastSeq: 0, oldestSeq: undefined, changes: new Map() };
}

/** Whether history older than what is loaded exists (seqs start at 1 and are dense). */
export function hasOlder(log: RoomLog): boolean {
  return log.oldestSeq === undefined || log.oldestSeq > 1;
}

function applyChange(message: Message, change: Change): Message {
  if (change.type === 'message_deleted') return { ...message, text: '', deleted: true };
  if (message.deleted) return message;
  return { ...message, text: change.text, editedAt: change.sentAt };
}

/**
 * Folds entries (live or from history, in any order, repeats allowed) into the log.
 * A message seen twice keeps one copy; the latest change of a message wins whether
 * it arrived before or after the message itself.
 */
export function applyEntries(log: RoomLog, entries: RoomLogEntry[], page?: { fromHistory: true }): RoomLog {
  if (entries.length === 0 && !page) return log;
  const bySeq = new Map(log.messages.map((message) => [message.seq, message]));
  const memberships = new Map(log.memberships.map((entry) => [entry.seq, entry]));
  const changes = new Map(log.changes);
  let lastSeq = log.lastSeq;
  let oldestSeq = log.oldestSeq;
  for (const entry of [...entries].sort((a, b) => a.seq - b.seq)) {
    lastSeq = Math.max(lastSeq, entry.seq);
    if (page) oldestSeq = Math.min(oldestSeq ?? entry.seq, entry.seq);
    if (entry.type === 'message') {
      const { type: _type, cursor: _cursor, ...message } = entry as typeof entry & { cursor?: string };
      const change = changes.get(entry.seq);
      bySeq.set(entry.seq, change ? applyChange(message, change) : message);
      continue;
    }
    if (entry.type === 'member_joined' || entry.type === 'member_left') {
      const { cursor: _cursor, ...membership } = entry as typeof entry & { cursor?: string };
      memberships.set(entry.seq, membership);
      continue;
    }
    const known = changes.get(entry.target);
    if (known && (known.type === 'message_deleted' || known.seq > entry.seq)) continue;
    changes.set(entry.target, entry);
    const target = bySeq.get(entry.target);
    if (target) bySeq.set(entry.target, applyChange(target, entry));
  }
  const messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return { messages, memberships: [...memberships.values()].sort((a, b) => a.seq - b.seq), lastSeq, oldestSeq, changes };
}
