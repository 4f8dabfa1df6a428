/**
 * Errors that say the command is at fault, not the database's state: data exceptions (class 22, e.g. a NUL
 * character, a number out of range) and integrity violations (class 23) other than the unique key, which the retry
 * turns into a duplicate. Connection failures, shutdowns, lack of resources and the like carry no such code, or
 * another class, and are retried by kafkajs with the whole batch.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code) && code !== '23505';
}

/**
 * A statement that gave up waiting for a row lock (lock_timeout): a room's counter row is held by another writer,
 * perhaps a frozen one that the server has yet to end. Says nothing about the other rooms of the statement.
 */
export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown }).code === '55P03';
}
