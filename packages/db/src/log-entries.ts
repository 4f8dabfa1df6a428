import type { RoomLogEntry } from '@chat/protocol';

/** The columns of `messages` that make a room log entry, in the order `toLogEntry` reads them. */
export const LOG_ENTRY_COLUMNS =
  'room_id, seq, id, kind, target_seq, sender_id, sender_name, client_msg_id, text, sent_at, edited_at, deleted_at';

export interface LogEntryRow {
  room_id: string;
  seq: number;
  id: string;
  kind: RoomLogEntry['type'];
  target_seq: number | null;
  sender_id: string;
  sender_name: string;
  client_msg_id: string;
  text: string;
  sent_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

/** A stored row as clients see it: the same shape in history and on every stream. */
export function toLogEntry(row: LogEntryRow): RoomLogEntry {
  const common = {
    room: row.room_id,
    seq: row.seq,
    id: row.id,
    clientMsgId: row.client_msg_id,
    sender: { id: row.sender_id, name: row.sender_name },
  };
  if (row.kind === 'message_edited') {
    return { type: 'message_edited', ...common, target: row.target_seq!, text: row.text, sentAt: row.sent_at.toISOString() };
  }
  if (row.kind === 'message_deleted') {
    return { type: 'message_deleted', ...common, target: row.target_seq!, sentAt: row.sent_at.toISOString() };
  }
  if (row.kind === 'member_joined' || row.kind === 'member_left') {
    // The sender columns name whom it is about; its key ("joined <seq>") and empty text stay internal.
    return { type: row.kind, room: row.room_id, seq: row.seq, user: common.sender, sentAt: row.sent_at.toISOString() };
  }
  return {
    type: 'message',
    ...common,
    text: row.text,
    sentAt: row.sent_at.toISOString(),
    ...(row.edited_at ? { editedAt: row.edited_at.toISOString() } : {}),
    ...(row.deleted_at ? { deleted: true as const } : {}),
  };
}
