import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig, type ConfigError } from '@chat/runtime';
import { kafkaConnection, kafkaConnectionConfigSpec } from './connection';

const connectionFrom = (env: Record<string, string>, readFile?: (path: string) => string) =>
  kafkaConnection(readConfig(kafkaConnectionConfigSpec, env), readFile);

test('a plain connection has brokers and neither TLS nor SASL', () => {
  assert.deepEqual(connectionFrom({ KAFKA_BROKERS: 'a:9092, b:9092' }), { brokers: ['a:9092', 'b:9092'] });
});

test('KAFKA_SSL with a CA file trusts that CA; without one, the system CAs', () => {
  const files: string[] = [];
  const withCa = connectionFrom({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/etc/ca.crt' }, (path) => (files.push(path), 'PEM'));
  assert.deepEqual(withCa.ssl, { ca: ['PEM'] });
  assert.deepEqual(files, ['/etc/ca.crt']);
  assert.equal(connectionFrom({ KAFKA_SSL: 'true' }).ssl, true);
});

test('SASL/SCRAM takes its mechanism and credentials from the environment', () => {
  const connection = connectionFrom({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'chat', KAFKA_SASL_PASSWORD: 'pw' });
  assert.deepEqual(connection.sasl, { mechanism: 'scram-sha-512', username: 'chat', password: 'pw' });
});

test('SASL without credentials, a CA without TLS, or an unknown mechanism stops start-up with a clear error', () => {
  assert.throws(() => connectionFrom({ KAFKA_SASL_MECHANISM: 'plain' }), (error: ConfigError) => /KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/.test(error.message));
  assert.throws(() => connectionFrom({ KAFKA_SSL_CA_FILE: '/ca.crt' }), /KAFKA_SSL_CA_FILE needs KAFKA_SSL=true/);
  assert.throws(() => connectionFrom({ KAFKA_SASL_MECHANISM: 'gssapi' }), /KAFKA_SASL_MECHANISM must be one of none, plain, scram-sha-256, scram-sha-512/);
});
