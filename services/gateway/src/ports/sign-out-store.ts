/** A user's sign-out, as Postgres keeps it: every token of theirs issued before `at` (epoch ms) is void. */
export interface SignOut {
  userId: string;
  at: number;
}

/** Where sign-outs are kept, for every gateway to read. */
export interface SignOutStore {
  /** Signs the user out now (the database's clock); resolves with that moment. */
  signOut(userId: string): Promise<number>;
  /**
   * The sign-outs after `since` (epoch ms) and within the last `windowSeconds`, with the database's clock at the
   * read: the next read's `since` counts on that clock, not on the gateway's.
   */
  signOutsSince(since: number | undefined, windowSeconds: number): Promise<{ signOuts: SignOut[]; databaseNow: number }>;
}

/** How sign-outs travel between gateways at once (the feed); the store is what a lost record falls back on. */
export interface SignOutLog {
  signedOut(signOut: SignOut): Promise<void>;
}
