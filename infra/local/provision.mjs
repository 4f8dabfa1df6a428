#!/usr/bin/env node
// Installs what the local stack needs (Kafka jars, PostgreSQL) without starting anything.
import { fileURLToPath } from 'node:url';
import { ensureKafkaInstalled, KAFKA_VERSION } from './kafka.mjs';
import { ensurePostgresInstalled } from './postgres.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const started = Date.now();
const [{ libsDir }, { binDir }] = await Promise.all([ensureKafkaInstalled({ root }), ensurePostgresInstalled()]);
console.log(`Kafka ${KAFKA_VERSION}: ${libsDir}`);
console.log(`PostgreSQL: ${binDir}`);
console.log(`provisioned in ${((Date.now() - started) / 1000).toFixed(1)}s`);
