import type { Pool } from '@chat/db';
import type { SignOut, SignOutStore } from '../ports/sign-out-store';

export class PgSignOutStore implements SignOutStore {
  constructor(private readonly pool: Pool) {}

  async signOut(userId: string): Promise<number> {
    // Never earlier than a sign-out already recorded (two at once, or a clock stepping back).
    const { rows } = await this.pool.query<{ signed_out_at: Date }>(
      `UPDATE users SET signed_out_at = greatest(signed_out_at, clock_timestamp()) WHERE id = $1 RETURNING signed_out_at`,
      [userId],
    );
    // A principal's user has a row (the authenticator made it): none means it was deleted since.
    return rows[0]?.signed_out_at.getTime() ?? Date.now();
  }

  async signOutsSince(since: number | undefined, windowSeconds: number): Promise<{ signOuts: SignOut[]; databaseNow: number }> {
    const [{ rows }, clock] = await Promise.all([
      this.pool.query<{ id: string; signed_out_at: Date }>(
        `SELECT id, signed_out_at FROM users
          WHERE signed_out_at > greatest(coalesce($1::timestamptz, '-infinity'), now() - make_interval(secs => $2))`,
        [since === undefined ? null : new Date(since), windowSeconds],
      ),
      this.pool.query<{ now: Date }>('SELECT now()'),
    ]);
    return { signOuts: rows.map((row) => ({ userId: row.id, at: row.signed_out_at.getTime() })), databaseNow: clock.rows[0]!.now.getTime() };
  }
}
