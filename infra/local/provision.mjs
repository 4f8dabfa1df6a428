#!/usr/bin/env node
// `npm run provision`: installs what the local stack needs (Kafka jars, PostgreSQL) and what the fault tests use
// (libfaketime) without starting anything. Cached: a second run downloads nothing.
import { fileURLToPath } from 'node:url';
import { ensureLibfaketimeInstalled } from './faketime.mjs';
import { ensureKafkaInstalled, KAFKA_VERSION } from './kafka.mjs';
import { ensurePostgresInstalled } from './postgres.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

const started = Date.now();
try {
  let step = Date.now();
  const { libsDir } = await ensureKafkaInstalled({ root });
  console.log(`Kafka ${KAFKA_VERSION}: ${libsDir} (${seconds(step)})`);
  step = Date.now();
  const { binDir } = await ensurePostgresInstalled();
  console.log(`PostgreSQL: ${binDir} (${seconds(step)})`);
  step = Date.now();
  console.log(`libfaketime: ${ensureLibfaketimeInstalled()} (${seconds(step)})`);
  console.log(`provisioned in ${seconds(started)}`);
} catch (error) {
  console.error(`provisioning failed: ${error.message}`);
  process.exit(1);
}
