#!/usr/bin/env -S npx tsx
import { createLogger, readConfig } from '@chat/runtime';
import { createPool } from './pool';
import { migrate, migrateConfigSpec } from './migrate';

const logger = createLogger('migrate');
const pool = createPool(readConfig(migrateConfigSpec).databaseUrl, logger, { max: 1 });
try {
  const applied = await migrate(pool);
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema is up to date');
} finally {
  await pool.end();
}
