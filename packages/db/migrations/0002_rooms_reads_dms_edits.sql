-- Direct messages are rooms of two, found again by the pair of their members.
ALTER TABLE rooms ADD COLUMN kind text NOT NULL DEFAULT 'group' CHECK (kind IN ('group', 'dm'));
ALTER TABLE rooms ADD COLUMN dm_key text UNIQUE;

-- How far each member has read: unread = rooms.last_seq - last_read_seq.
ALTER TABLE room_members ADD COLUMN last_read_seq bigint NOT NULL DEFAULT 0;

-- The room log holds messages and, as later entries with seqs of their own,
-- edits and deletes of them (target_seq). The target row carries the outcome
-- so that history shows current text without replaying the log.
ALTER TABLE messages ADD COLUMN kind text NOT NULL DEFAULT 'message'
  CHECK (kind IN ('message', 'message_edited', 'message_deleted'));
ALTER TABLE messages ADD COLUMN target_seq bigint;
ALTER TABLE messages ADD COLUMN edited_at timestamptz;
ALTER TABLE messages ADD COLUMN deleted_at timestamptz;
