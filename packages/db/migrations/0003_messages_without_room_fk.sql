-- The foreign key from messages to rooms checked every inserted row against
-- rooms (an index lookup and a row lock per message): about a quarter of the
-- writer's Postgres CPU per batch. It guards nothing the writer does not already
-- guarantee: both of its insert paths take each room's seqs from the UPDATE of
-- that room's counter in the same transaction, so a message of a room that does
-- not exist is never inserted (message-writer.test.ts checks both paths). Rooms
-- are never deleted; whatever deletes one in future deletes its messages too.
ALTER TABLE messages DROP CONSTRAINT messages_room_id_fkey;
