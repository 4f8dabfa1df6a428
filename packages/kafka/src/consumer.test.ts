import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchPayload } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ManagedConsumer } from './consumer';

const events = { GROUP_JOIN: 'consumer.group_join', STOP: 'consumer.stop', CRASH: 'consumer.crash', REBALANCING: 'consumer.rebalancing' };

/** A kafkajs consumer as far as ManagedConsumer uses it: its events are emitted by the test, as kafkajs would. */
function fakeKafka() {
  const emitter = new EventEmitter();
  const calls: unknown[][] = [];
  let run: ConsumerRunConfig | undefined;
  const consumer = {
    events,
    on: (name: string, listener: (event: unknown) => void) => {
      emitter.on(name, listener);
      return () => emitter.off(name, listener);
    },
    connect: async () => void calls.push(['connect']),
    subscribe: async (subscription: unknown) => void calls.push(['subscribe', subscription]),
    run: async (config: ConsumerRunConfig) => {
      calls.push(['run']);
      run = config;
    },
    disconnect: async () => {
      calls.push(['disconnect']);
      emitter.emit(events.STOP, { payload: {} });
    },
  };
  const configs: ConsumerConfig[] = [];
  return {
    kafka: {
      consumer: (config: ConsumerConfig) => {
        configs.push(config);
        return consumer as unknown as Consumer;
      },
    },
    configs,
    calls,
    run: () => run!,
    emit: (name: string, payload: object) => emitter.emit(name, { id: 1, type: name, timestamp: Date.now(), payload }),
  };
}

function setUp(group = 'g', metrics = new Registry()) {
  const fake = fakeKafka();
  const logs: Array<Record<string, unknown> & { level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const fatal: Error[] = [];
  const consumer = new ManagedConsumer({
    kafka: fake.kafka,
    config: { groupId: group, sessionTimeout: 10_000 },
    topic: 't',
    fromBeginning: true,
    logger,
    metrics,
    onFatal: (error) => fatal.push(error),
  });
  const value = async (name: string, labels: Record<string, string>) => {
    const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name);
    return metric?.values.find((v) => Object.entries(labels).every(([key, label]) => v.labels[key] === label))?.value;
  };
  const join = () => fake.emit(events.GROUP_JOIN, { groupId: group, memberAssignment: { t: [0, 1] } });
  const crash = (restart: boolean) => fake.emit(events.CRASH, { error: new Error('broken'), groupId: group, restart });
  return { fake, consumer, logs, fatal, value, join, crash };
}

test('ready once it has joined its group, still ready through a rebalance, not ready after stop()', async () => {
  const { fake, consumer, logs, value, join } = setUp();
  assert.equal(consumer.isReady, false, 'not ready while starting');
  assert.equal(await value('chat_kafka_consumer_ready', { group: 'g' }), 0);
  join();
  assert.equal(consumer.isReady, true);
  assert.equal(await value('chat_kafka_consumer_ready', { group: 'g' }), 1);
  assert.ok(logs.some((log) => log.msg === 'joined consumer group' && log.group === 'g'));
  fake.emit(events.REBALANCING, { groupId: 'g', memberId: 'm' });
  assert.equal(consumer.isReady, true, 'a rebalance the group ends by itself keeps it ready');
  await consumer.stop();
  assert.deepEqual(fake.calls.at(-1), ['disconnect']);
  assert.equal(consumer.isReady, false);
  assert.equal(await value('chat_kafka_consumer_ready', { group: 'g' }), 0);
});

test('a crash kafkajs restarts is logged with its error and counted, and the rejoin makes it ready again', async () => {
  const { consumer, logs, fatal, value, join, crash } = setUp();
  join();
  crash(true);
  assert.equal(consumer.isReady, false);
  const logged = logs.find((log) => log.msg === 'consumer crashed; kafkajs restarts it');
  assert.ok(logged, 'the crash is logged');
  assert.equal(logged.level, 50, 'at error');
  assert.deepEqual([(logged.err as { message: string }).message, logged.group, logged.restart], ['broken', 'g', true]);
  assert.equal(await value('chat_kafka_consumer_crashes_total', { group: 'g', restart: 'true' }), 1);
  assert.deepEqual(fatal, [], 'kafkajs restarts it; the process goes on');
  join();
  assert.equal(consumer.isReady, true);
});

test('a crash kafkajs does not restart is logged as fatal and handed to onFatal, once, to end the process', async () => {
  const { consumer, logs, fatal, value, join, crash } = setUp();
  join();
  crash(false);
  assert.equal(consumer.isReady, false);
  assert.deepEqual(fatal.map((error) => error.message), ['broken']);
  const logged = logs.find((log) => log.level === 60);
  assert.ok(logged, 'a fatal record');
  assert.deepEqual([(logged.err as { message: string }).message, logged.group, logged.restart], ['broken', 'g', false]);
  assert.equal(await value('chat_kafka_consumer_crashes_total', { group: 'g', restart: 'false' }), 1);
});

test('a crash after stop() is only logged: the process is already ending', async () => {
  const { consumer, logs, fatal, join, crash } = setUp();
  join();
  await consumer.stop();
  crash(false);
  assert.deepEqual(fatal, []);
  assert.ok(logs.some((log) => log.msg === 'consumer crashed while stopping' && log.level === 50));
});

test('without onFatal, a crash kafkajs does not restart exits the process with 70 for its supervisor', (t) => {
  const exit = t.mock.method(process, 'exit', () => undefined);
  const fake = fakeKafka();
  new ManagedConsumer({ kafka: fake.kafka, config: { groupId: 'g' }, topic: 't', fromBeginning: true, logger: pino({ level: 'silent' }), metrics: new Registry() });
  fake.emit(events.CRASH, { error: new TypeError('a bug'), groupId: 'g', restart: false });
  assert.deepEqual(exit.mock.calls.map((call) => call.arguments), [[70]]);
});

test('start() subscribes and runs with its caller options; each batch reaches the lag metrics, then the handler', async () => {
  const { fake, consumer, value } = setUp();
  const handled: EachBatchPayload[] = [];
  await consumer.start({ autoCommit: false, eachBatch: async (payload) => void handled.push(payload) });
  assert.deepEqual(fake.configs, [{ groupId: 'g', sessionTimeout: 10_000 }]);
  assert.deepEqual(fake.calls, [['connect'], ['subscribe', { topic: 't', fromBeginning: true }], ['run']]);
  assert.equal(fake.run().autoCommit, false);
  assert.equal(fake.run().eachMessage, undefined);
  const payload = { batch: { topic: 't', partition: 1, offsetLag: () => '3', messages: [] } } as unknown as EachBatchPayload;
  await fake.run().eachBatch!(payload);
  assert.deepEqual(handled, [payload]);
  assert.equal(await value('chat_kafka_consumer_lag', { group: 'g', topic: 't', partition: '1' }), 3);
});

test('two consumers of one process report to one registry, each under its own group', async () => {
  const metrics = new Registry();
  const first = setUp('a', metrics);
  setUp('b', metrics);
  first.join();
  assert.equal(await first.value('chat_kafka_consumer_ready', { group: 'a' }), 1);
  assert.equal(await first.value('chat_kafka_consumer_ready', { group: 'b' }), 0);
});

test('a broker that resets the connection while the consumer starts costs a retry, not the start', async () => {
  const { fake, consumer, logs } = setUp();
  const kafkajsConsumer = fake.kafka.consumer({ groupId: 'g' }) as unknown as { connect: () => Promise<void> };
  const connect = kafkajsConsumer.connect;
  let resets = 1;
  kafkajsConsumer.connect = async () => {
    if (resets-- > 0) throw Object.assign(new Error('Connection error: write ECONNRESET'), { name: 'KafkaJSConnectionError', retriable: true });
    return connect();
  };
  await consumer.start({ eachBatch: async () => undefined });
  assert.deepEqual(
    fake.calls.map(([call]) => call),
    ['connect', 'subscribe', 'run'],
  );
  assert.ok(logs.some((line) => line.msg === 'joining consumer group g failed; trying again'));
});
