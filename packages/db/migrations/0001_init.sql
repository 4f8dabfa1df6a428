-- Users come from the development login (by unique login name) or from an
-- identity provider's tokens (id derived from issuer and subject; no login).
CREATE TABLE users (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  login       text UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- last_seq is the room's sequence counter: the messaging writer that owns the
-- room's partition advances it in the same transaction as the inserts.
CREATE TABLE rooms (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  last_seq    bigint NOT NULL DEFAULT 0,
  created_by  uuid NOT NULL REFERENCES users (id),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE room_members (
  room_id    uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  joined_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
-- "My rooms" is looked up by user.
CREATE INDEX room_members_by_user ON room_members (user_id, room_id);

-- The primary key (room_id, seq) is the history index: after/before/latest are
-- range scans on it. The unique key makes a replayed send harmless.
CREATE TABLE messages (
  room_id        uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  seq            bigint NOT NULL,
  id             uuid NOT NULL,
  sender_id      uuid NOT NULL,
  sender_name    text NOT NULL,
  client_msg_id  text NOT NULL,
  text           text NOT NULL,
  sent_at        timestamptz NOT NULL,
  PRIMARY KEY (room_id, seq),
  UNIQUE (room_id, sender_id, client_msg_id)
);

-- Single-use tickets for opening streams from a browser, redeemable at any
-- gateway replica. Only a hash is stored. Unlogged: losing them in a crash
-- costs a client one reconnect.
CREATE UNLOGGED TABLE stream_tickets (
  ticket_hash       bytea PRIMARY KEY,
  user_id           uuid NOT NULL,
  user_name         text NOT NULL,
  token_expires_at  timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL
);
