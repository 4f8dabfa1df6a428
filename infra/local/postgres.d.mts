// Types for the TypeScript callers of postgres.mjs (e2e tests that run a Postgres of their own).
export interface RunningPostgres {
  url: string;
  host: string;
  port: number;
  user: string;
  /** Where the data is: the folder asked for, or its fallback under /var/tmp (postgresDataLocations). */
  dataDir: string;
  pid: number;
  /** Returns once the server has exited. */
  stop(): Promise<void>;
  /** `pg_ctl stop -m immediate` (SIGQUIT: a crash, recovered from WAL on the next start); returns once it has exited. */
  stopImmediate(): Promise<void>;
}

export function startPostgres(options: { root?: string; dataDir: string; port?: number; logFile?: string }): Promise<RunningPostgres>;
export function createDatabase(options: { root?: string; url: string; name: string }): Promise<void>;
export function postgresDataLocations(dataDir: string): string[];
