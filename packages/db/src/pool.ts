import pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError } from '@chat/runtime';

// bigint (seq, counts) as JS numbers: seqs stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * How long a connection may wait or be waited for; 0 (or absent) leaves a limit off. Each service picks its values in
 * its config.ts, against its slowest legitimate statement and its own deadlines.
 */
export interface PoolSettings {
  /** Connections at most; what the chart's connection budget counts per replica. */
  max: number;
  /** Server side: a statement running longer, lock waits included, is cancelled (SQLSTATE 57014). */
  statementTimeoutMs?: number;
  /** Server side: a statement waiting longer for a lock is cancelled (55P03); its transaction fails. */
  lockTimeoutMs?: number;
  /**
   * Server side: a session idle this long inside a transaction is ended (25P03) and the transaction rolled back, so a
   * client that froze or lost its network while holding row locks releases them.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * Client side: a query unanswered this long fails and its connection is dropped. The backstop for a server that
   * does not answer at all (a network blackhole), which no server-side limit can cover; longer than
   * statementTimeoutMs, so that the server's cancel, which keeps the connection, normally comes first.
   */
  queryTimeoutMs?: number;
}

/**
 * A service's pool settings from its config fields (each service documents its own values), refusing a client-side
 * query timeout that would come before the server's cancel of the same statement.
 */
export function poolSettings(settings: Required<PoolSettings>): PoolSettings {
  const { statementTimeoutMs: statement, queryTimeoutMs: query } = settings;
  if (statement > 0 && query > 0 && query <= statement) {
    throw new ConfigError([`DATABASE_QUERY_TIMEOUT_MS (${query}) must be above DATABASE_STATEMENT_TIMEOUT_MS (${statement}): the server's cancel comes first`]);
  }
  return settings;
}

/**
 * The server-side limits travel as startup parameters of every connection (pg sends them), so no statement ever runs
 * without them. PgBouncer refuses them unless it ignores them (`ignore_startup_parameters`): then set them on the role.
 * TCP keepalive finds a dead peer under a connection that idles in the pool and keeps NATs and load balancers
 * from forgetting it silently.
 */
export function createPool(connectionString: string, logger: Logger, settings: PoolSettings): pg.Pool {
  const limit = (ms: number | undefined) => (ms && ms > 0 ? ms : undefined);
  const pool = new pg.Pool({
    connectionString,
    max: settings.max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: limit(settings.statementTimeoutMs),
    lock_timeout: limit(settings.lockTimeoutMs),
    idle_in_transaction_session_timeout: limit(settings.idleInTransactionTimeoutMs),
    query_timeout: limit(settings.queryTimeoutMs),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle postgres client failed'));
  return pool;
}

/**
 * Runs `work` in a transaction on a connection of its own. The connection may be ended under it (the server's
 * idle-in-transaction limit, a restart): that failure reaches the next statement, and the error event pg also emits
 * when no statement is in flight is caught here instead of ending the process. A failure the server reported leaves
 * the connection usable once rolled back; any other (a timeout on the client's side, a lost connection) drops it,
 * which also makes the server roll back, without a ROLLBACK queued behind a statement that never returns.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  client.on('error', onError);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = lost ?? (error instanceof pg.DatabaseError ? undefined : (error as Error));
    if (!broken) await client.query('ROLLBACK').catch((rollbackFailed: unknown) => (broken = rollbackFailed as Error));
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken ?? lost);
  }
}
