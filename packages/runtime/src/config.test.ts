import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bool, ConfigError, int, list, oneOf, readConfig, str } from './config';

const spec = {
  port: int('PORT', 8080, { min: 0, max: 65535 }),
  brokers: list('KAFKA_BROKERS', ['127.0.0.1:9092']),
  secret: str('JWT_SECRET'),
  devLogin: bool('DEV_LOGIN', true),
  level: oneOf('LOG_LEVEL', ['info', 'debug'] as const, 'info'),
};

test('defaults fill what the environment leaves out', () => {
  const config = readConfig(spec, { JWT_SECRET: 's' });
  assert.deepEqual(config, { port: 8080, brokers: ['127.0.0.1:9092'], secret: 's', devLogin: true, level: 'info' });
});

test('values are parsed from the environment', () => {
  const config = readConfig(spec, { PORT: '0', KAFKA_BROKERS: 'a:1, b:2', JWT_SECRET: 'x', DEV_LOGIN: 'off', LOG_LEVEL: 'debug' });
  assert.deepEqual(config, { port: 0, brokers: ['a:1', 'b:2'], secret: 'x', devLogin: false, level: 'debug' });
});

test('every bad value is named in one error', () => {
  assert.throws(
    () => readConfig(spec, { PORT: '80000', DEV_LOGIN: 'maybe', LOG_LEVEL: 'loud' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 4);
      assert.match(error.message, /PORT must be an integer from 0 to 65535/);
      assert.match(error.message, /JWT_SECRET is required/);
      assert.match(error.message, /DEV_LOGIN must be true or false/);
      assert.match(error.message, /LOG_LEVEL must be one of info, debug/);
      return true;
    },
  );
});
