-- What the messaging writer checks before it stores a command (unstorableBecause), checked again by the table, so
-- that a writer with a check missing fails one command with a check violation (class 23), which it isolates and
-- sends to the dead-letter topic, instead of storing what no client could read back the same. Client ids are
-- printable ASCII without the space; the server's own keys ("delete <seq>") hold one. Texts and names are counted in
-- characters, as the contract counts them. NOT VALID: rows stored before this migration (the old "delete:<seq>" keys
-- among them) stay as they are; every new row is checked.
ALTER TABLE messages
  ADD CONSTRAINT messages_client_msg_id_check CHECK (client_msg_id ~ '^[!-~]{1,64}$' OR client_msg_id ~ '^delete [0-9]{1,16}$') NOT VALID,
  ADD CONSTRAINT messages_text_length_check CHECK (char_length(text) <= 4000) NOT VALID,
  ADD CONSTRAINT messages_sender_name_check CHECK (char_length(sender_name) BETWEEN 1 AND 64) NOT VALID;
