#!/usr/bin/env -S npx tsx
import { createLogger } from '@chat/runtime';
import { createPool } from './pool';
import { migrate } from './migrate';

const logger = createLogger('migrate');
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5433/chat';
const pool = createPool(url, logger, 1);
try {
  const applied = await migrate(pool);
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema is up to date');
} finally {
  await pool.end();
}
