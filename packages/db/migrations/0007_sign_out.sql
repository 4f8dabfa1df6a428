-- Sign-out: every token of a user issued before signed_out_at is void, on every gateway (each keeps the recent
-- sign-outs in memory, from this table and the feed). A ticket carries the issue time of the token it was made
-- from, so that a ticket made before a sign-out is void too. Adding a nullable column rewrites nothing.
ALTER TABLE users ADD COLUMN signed_out_at timestamptz;
-- The gateways read the recent ones every few seconds.
CREATE INDEX users_signed_out_at ON users (signed_out_at) WHERE signed_out_at IS NOT NULL;
ALTER TABLE stream_tickets ADD COLUMN token_issued_at timestamptz;
