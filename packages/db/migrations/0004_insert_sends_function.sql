-- The messaging writer's statement for a batch of plain sends (nearly every
-- batch), moved into a function so that Postgres plans it once per connection
-- instead of at every call. Parsing and planning this statement cost more than
-- running it: 833 µs of backend CPU per 6-send batch as a plain statement,
-- 387 µs as this function (docs/scaling.md).
--
-- A cached plan is generic (made without the arrays' contents), and one made
-- while `messages` is small would scan it sequentially however large it grows.
-- With sequential scans off inside the function, the plan probes the unique
-- index once per send and the rooms' primary key once per room: right at any
-- table size, since a batch is far smaller than the table (message-writer.test.ts
-- checks the plan on an empty table).
--
-- One statement, so one snapshot and its own transaction: find the sends
-- already stored, advance each room's counter by its new sends, insert those with
-- the seqs that follow (in batch order), and return the stored entries and the
-- new ones. A concurrent writer of the same rooms (mid-rebalance) blocks on the
-- counter row, and a send it stored first makes the insert fail with a unique
-- violation, which the caller retries.
CREATE FUNCTION insert_sends(
  p_room uuid[], p_sender uuid[], p_sender_name text[], p_client_msg_id text[], p_text text[], p_sent_at timestamptz[]
)
RETURNS TABLE (
  room_id uuid, seq bigint, id uuid, kind text, target_seq bigint, sender_id uuid, sender_name text,
  client_msg_id text, text text, sent_at timestamptz, edited_at timestamptz, deleted_at timestamptz, is_new boolean
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH batch AS (
    SELECT * FROM unnest(p_room, p_sender, p_sender_name, p_client_msg_id, p_text, p_sent_at)
      WITH ORDINALITY AS b(room_id, sender_id, sender_name, client_msg_id, text, sent_at, position)
  ), stored AS (
    SELECT m.room_id, m.seq, m.id, m.kind, m.target_seq, m.sender_id, m.sender_name, m.client_msg_id, m.text,
           m.sent_at, m.edited_at, m.deleted_at
      FROM messages m JOIN batch USING (room_id, sender_id, client_msg_id)
  ), fresh AS (
    SELECT * FROM batch b
     WHERE NOT EXISTS (SELECT 1 FROM stored s
                        WHERE (s.room_id, s.sender_id, s.client_msg_id) = (b.room_id, b.sender_id, b.client_msg_id))
  ), advanced AS (
    UPDATE rooms r SET last_seq = r.last_seq + c.n
      FROM (SELECT room_id, count(*) AS n FROM fresh GROUP BY room_id) AS c
     WHERE r.id = c.room_id
    RETURNING r.id AS room_id, r.last_seq - c.n AS seq_before
  ), inserted AS (
    INSERT INTO messages (room_id, seq, id, kind, sender_id, sender_name, client_msg_id, text, sent_at)
    SELECT f.room_id, a.seq_before + row_number() OVER (PARTITION BY f.room_id ORDER BY f.position),
           gen_random_uuid(), 'message', f.sender_id, f.sender_name, f.client_msg_id, f.text, f.sent_at
      FROM fresh f JOIN advanced a USING (room_id)
    RETURNING messages.room_id, messages.seq, messages.id, messages.kind, messages.target_seq, messages.sender_id,
              messages.sender_name, messages.client_msg_id, messages.text, messages.sent_at, messages.edited_at,
              messages.deleted_at
  )
  SELECT *, false FROM stored
  UNION ALL
  SELECT *, true FROM inserted;
END
$$;
