import type { Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchHandler, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ConsumerLag } from './consumer-lag';
import { sharedMetric } from './metrics';
import { retryWhileStarting } from './startup';

/** The exit code of a process that ends so that its supervisor restarts it, as installProcessPolicy's. */
export const EXIT_FOR_RESTART = 70;

export interface ManagedConsumerOptions {
  kafka: Pick<Kafka, 'consumer'>;
  /** kafkajs' settings; its groupId labels the logs and metrics. */
  config: ConsumerConfig;
  topic: string;
  fromBeginning: boolean;
  logger: Logger;
  metrics: Registry;
  /**
   * Called once after a crash kafkajs gives up on (already logged as fatal); by default the process exits at once
   * (EXIT_FOR_RESTART). A service that has clients to hand over first (the gateway drains its streams) ends itself.
   */
  onFatal?: (error: Error) => void;
}

/** What the consumer runs: batches only, each seen by the lag metrics before the handler. */
export type ManagedRunConfig = Omit<ConsumerRunConfig, 'eachBatch' | 'eachMessage'> & { eachBatch: EachBatchHandler };

/**
 * A kafkajs consumer group member with the one policy every service's consumers share; what each does with its
 * batches (offsets, seeks, tracing) stays with it, through `kafkajs`.
 *
 * - **Ready** once it has joined its group, and again after every rejoin; not ready from a crash or a stop until
 *   then. A rebalance leaves it ready: it pauses every member of the group at once and the group ends it on its own,
 *   so dropping readiness there would show a rolling update every replica unavailable at the same moment.
 * - **A crash kafkajs restarts** (`CRASH` with `payload.restart`: a retriable error, including an `eachBatch` that
 *   kept failing through its retries, or a broker out of reach) is logged with its error and counted; kafkajs
 *   rejoins after its retry time, which makes it ready again.
 * - **A crash kafkajs does not restart** (a non-retriable error: a TypeError or RangeError thrown by our own handler,
 *   an authorization or configuration error from the broker) leaves the consumer disconnected for good, and the
 *   process with it would go on serving without it: /healthz stays ok, so nothing would ever restart it. It is
 *   logged as fatal and handed to `onFatal`, which by default exits the process (EXIT_FOR_RESTART) for its supervisor (Kubernetes, `npm start`) to start
 *   afresh with backoff, as for an uncaught exception: a restart in place would have to trust the state the handler
 *   left, and would not fix a broker's refusal either. After `stop()` a crash is only logged: the process is ending.
 * - **Metrics**, labelled by group: `chat_kafka_consumer_lag` and `chat_kafka_record_age_seconds` (ConsumerLag),
 *   `chat_kafka_consumer_ready` and `chat_kafka_consumer_crashes_total{restart}`.
 */
export class ManagedConsumer {
  /** The kafkajs consumer, for what stays with its user: committing offsets, seeking, its own event listeners. */
  readonly kafkajs: Consumer;
  private readonly group: string;
  private ready = false;
  private joined = false;
  private stopping = false;
  private readonly lag: ConsumerLag;
  private readonly readiness: Gauge<'group'>;
  private readonly crashes: Counter<'group' | 'restart'>;
  private readonly onFatal: (error: Error) => void;

  constructor(private readonly options: ManagedConsumerOptions) {
    this.group = options.config.groupId;
    this.onFatal = options.onFatal ?? (() => process.exit(EXIT_FOR_RESTART));
    this.kafkajs = options.kafka.consumer(options.config);
    const { metrics } = options;
    this.lag = new ConsumerLag(metrics, this.group);
    this.lag.watch(this.kafkajs);
    this.readiness = sharedMetric(
      metrics,
      'chat_kafka_consumer_ready',
      () =>
        new Gauge({
          name: 'chat_kafka_consumer_ready',
          help: 'Whether this member of each consumer group is in its group (1) or starting, crashed or stopped (0)',
          labelNames: ['group'],
          registers: [metrics],
        }),
    );
    this.crashes = sharedMetric(
      metrics,
      'chat_kafka_consumer_crashes_total',
      () =>
        new Counter({
          name: 'chat_kafka_consumer_crashes_total',
          help: 'Crashes of each consumer group member, by whether kafkajs restarts it (restart="false" ends the process)',
          labelNames: ['group', 'restart'],
          registers: [metrics],
        }),
    );
    this.setReady(false);
    const { GROUP_JOIN, STOP, CRASH } = this.kafkajs.events;
    this.kafkajs.on(GROUP_JOIN, (event) => {
      this.joined = true;
      this.setReady(true);
      options.logger.info({ group: this.group, assignment: event.payload.memberAssignment }, 'joined consumer group');
    });
    // kafkajs stops the consumer before it reports a crash, and on stop() or disconnect().
    this.kafkajs.on(STOP, () => this.setReady(false));
    this.kafkajs.on(CRASH, (event) => this.crashed(event.payload.error, event.payload.restart));
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Whether it has joined its group at least once since it started: past its start-up, whatever happened since. */
  get hasJoined(): boolean {
    return this.joined;
  }

  async start(run: ManagedRunConfig): Promise<void> {
    // A broker that resets the connection while the replica starts (one restarting) costs a retry, not the process.
    await retryWhileStarting(
      `joining consumer group ${this.group}`,
      async () => {
        await this.kafkajs.connect();
        await this.kafkajs.subscribe({ topic: this.options.topic, fromBeginning: this.options.fromBeginning });
      },
      { logger: this.options.logger },
    );
    await this.kafkajs.run({
      ...run,
      eachBatch: (payload) => {
        this.lag.observe(payload.batch);
        return run.eachBatch(payload);
      },
    });
  }

  /** Leaves the group (after the batch in progress) and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.setReady(false);
    await this.kafkajs.disconnect();
  }

  private crashed(error: Error, restart: boolean): void {
    this.setReady(false);
    this.crashes.inc({ group: this.group, restart: String(restart) });
    const fields = { err: error, group: this.group, restart };
    if (restart) this.options.logger.error(fields, 'consumer crashed; kafkajs restarts it');
    else if (this.stopping) this.options.logger.error(fields, 'consumer crashed while stopping');
    else {
      this.options.logger.fatal(fields, 'consumer crashed and kafkajs does not restart it: ending the process for a restart');
      this.onFatal(error);
    }
  }

  private setReady(ready: boolean): void {
    this.ready = ready;
    this.readiness.set({ group: this.group }, ready ? 1 : 0);
  }
}
