-- Joins and leaves are entries of the room's log (kinds member_joined, member_left), written in the same transaction
-- as the membership change, so that every gateway learns of one even when its Kafka publish is lost: each stream of
-- the room meets a hole at that seq and reads the entry from here. The sender columns name whom it is about; the key
-- is the server's own, "joined <seq>" / "left <seq>" (a space: no client id collides with it); the text is empty.
--
-- NOT VALID, as in 0005: every row stored before this satisfied the narrower checks these replace, and validating
-- would scan the whole table under the lock that ADD CONSTRAINT takes. Every new row is checked.
ALTER TABLE messages
  DROP CONSTRAINT messages_kind_check,
  ADD CONSTRAINT messages_kind_check
    CHECK (kind IN ('message', 'message_edited', 'message_deleted', 'member_joined', 'member_left')) NOT VALID,
  DROP CONSTRAINT messages_client_msg_id_check,
  ADD CONSTRAINT messages_client_msg_id_check
    CHECK (client_msg_id ~ '^[!-~]{1,64}$' OR client_msg_id ~ '^(delete|joined|left) [0-9]{1,16}$') NOT VALID,
  ADD CONSTRAINT messages_membership_fields_check
    CHECK ((kind IN ('member_joined', 'member_left')) = (client_msg_id ~ '^(joined|left) ')
           AND (kind NOT IN ('member_joined', 'member_left')
                OR (client_msg_id = replace(kind, 'member_', '') || ' ' || seq AND text = '' AND target_seq IS NULL))) NOT VALID;

-- Adds (member_joined) or removes (member_left) a member and, when that changed anything, appends the entry that says
-- so with the room's next seq, returning it; no row when nothing changed (already a member, not one, no such room).
--
-- The room's counter row is locked first, FOR NO KEY UPDATE as the messaging writer's UPDATE of it locks it, so the
-- two writers of a room's log take turns on that row: seqs stay dense and unique, and each writer's rows are visible
-- before the next one allocates (catch-up relies on that: a later seq is never visible before an earlier one). Each
-- statement of a plpgsql function takes a fresh snapshot, so what follows the lock sees every change committed before
-- it was granted (a DELETE in the same statement as the lock would not see a member added meanwhile). One call, so
-- the lock is held for no client round trip, and the call is its own transaction.
CREATE FUNCTION change_membership(p_room uuid, p_user uuid, p_user_name text, p_kind text)
RETURNS TABLE (
  room_id uuid, seq bigint, id uuid, kind text, target_seq bigint, sender_id uuid, sender_name text,
  client_msg_id text, text text, sent_at timestamptz, edited_at timestamptz, deleted_at timestamptz
)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  v_seq bigint;
BEGIN
  PERFORM 1 FROM rooms WHERE id = p_room FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF p_kind = 'member_joined' THEN
    INSERT INTO room_members (room_id, user_id) VALUES (p_room, p_user) ON CONFLICT DO NOTHING;
  ELSIF p_kind = 'member_left' THEN
    DELETE FROM room_members WHERE room_members.room_id = p_room AND room_members.user_id = p_user;
  ELSE
    RAISE EXCEPTION 'not a membership kind: %', p_kind USING ERRCODE = '22023';
  END IF;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  UPDATE rooms SET last_seq = last_seq + 1 WHERE rooms.id = p_room RETURNING last_seq INTO v_seq;
  -- A member has read the room up to their own join: it is not unread to them.
  IF p_kind = 'member_joined' THEN
    UPDATE room_members SET last_read_seq = v_seq WHERE room_members.room_id = p_room AND room_members.user_id = p_user;
  END IF;
  RETURN QUERY
    INSERT INTO messages (room_id, seq, id, kind, sender_id, sender_name, client_msg_id, text, sent_at)
    VALUES (p_room, v_seq, gen_random_uuid(), p_kind, p_user, p_user_name, replace(p_kind, 'member_', '') || ' ' || v_seq, '', now())
    RETURNING messages.room_id, messages.seq, messages.id, messages.kind, messages.target_seq, messages.sender_id,
              messages.sender_name, messages.client_msg_id, messages.text, messages.sent_at, messages.edited_at,
              messages.deleted_at;
END
$$;
