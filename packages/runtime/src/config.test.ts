import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bool, ConfigError, int, list, oneOf, readConfig, str } from './config';

const spec = {
  port: int('PORT', 8080, { min: 0, max: 65535, doc: 'Port of the HTTP server.' }),
  brokers: list('KAFKA_BROKERS', ['127.0.0.1:9092'], { doc: 'Brokers to bootstrap from.' }),
  secret: str('JWT_SECRET', undefined, { doc: 'Signs the tokens.' }),
  devLogin: bool('DEV_LOGIN', true, { doc: 'Login by name alone.', shownDefault: 'on' }),
  level: oneOf('LOG_LEVEL', ['info', 'debug'] as const, 'info', { doc: 'How much is logged.' }),
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

test('every field says what README shows of it: name, default, accepted values, description', () => {
  assert.deepEqual(
    Object.values(spec).map((field) => field.info),
    [
      { env: 'PORT', default: '`8080`', values: 'integer from 0 to 65535', doc: 'Port of the HTTP server.' },
      { env: 'KAFKA_BROKERS', default: '`127.0.0.1:9092`', values: 'comma-separated', doc: 'Brokers to bootstrap from.' },
      { env: 'JWT_SECRET', default: 'required', values: '', doc: 'Signs the tokens.' },
      { env: 'DEV_LOGIN', default: 'on', values: '`true` or `false`', doc: 'Login by name alone.' },
      { env: 'LOG_LEVEL', default: '`info`', values: '`info`, `debug`', doc: 'How much is logged.' },
    ],
  );
  assert.equal(int('N', 1, { min: 1, doc: '' }).info.values, 'integer, at least 1');
  assert.equal(str('S', '', { doc: '' }).info.default, 'empty');
});
