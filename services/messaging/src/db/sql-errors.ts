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
