// A whole deployment of its own for one fault test file: a Kafka cluster (three brokers by default: RF 3,
// min.insync.replicas 2) and a Postgres that no other file shares, two gateways, two messaging replicas and a presence
// service, each a real process. Every service reaches Kafka and Postgres through fault proxies of its own (a "lane"
// per service: a Kafka listener per broker advertised at the lane's proxy), so that one service can be cut, slowed or
// blackholed while the others are not. Processes, brokers and Postgres can be killed, paused and restarted; every
// exit is recorded in the current history, as expected (a fault the test caused) or not.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { History } from '@chat/chaos';
import { createPool, migrate, type Pool } from '@chat/db';
import { chatTopicSpecs, ensureTopics, topicNames, type TopicNames } from '@chat/kafka';
import { createLogger } from '@chat/runtime';
import { startFaultProxy, startService, waitUntil, type FaultProxy, type RunningService, type ServiceName } from '@chat/testkit';
import { freePort } from '../../infra/local/common.mjs';
import { startEphemeralInfra, type EphemeralInfra } from '../../infra/local/ephemeral.mjs';
import { startPostgres, type RunningPostgres } from '../../infra/local/postgres.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const JWT_SECRET = 'fault-secret-0123456789abcdef0123456789';
const TOPIC_PREFIX = 'faults.';
const BROKER_HEAP_MB = 384;
/**
 * A broker's JVM grows until it fills the heap it was given (G1 collects late by design), so its RSS is judged against
 * the heap plus what a JVM holds beside it (metaspace, code cache, thread stacks, the mapped index files), not
 * against its growth: the 60-minute soak's restarted broker went from 207 to 420 MiB, its heap full.
 */
const BROKER_RSS_LIMIT_BYTES = (BROKER_HEAP_MB + 256) * 2 ** 20;

/** One service of the deployment: its process (when running), its port (the same across restarts) and its lanes. */
export class ServiceSlot {
  service: RunningService | undefined;
  /** The proxies between this service and each broker, in broker order. */
  readonly kafka: FaultProxy[];
  /** The proxy between this service and Postgres. */
  readonly postgres: FaultProxy;
  private expectingExit = false;
  private exits = 0;
  /** Started with failpoints armed: `recover()` starts it again without them. */
  private armed = false;

  constructor(
    private readonly stack: FaultStack,
    readonly name: string,
    readonly kind: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    lanes: { kafka: FaultProxy[]; postgres: FaultProxy },
  ) {
    this.kafka = lanes.kafka;
    this.postgres = lanes.postgres;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.service?.process.pid;
  }

  get running(): boolean {
    const child = this.service?.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Exits seen so far, the test's own included. */
  get exitCount(): number {
    return this.exits;
  }

  /**
   * Starts the process (again), with `extraEnv` on top of its own (CHAT_FAILPOINTS, say); `expectExit`: its exit will
   * be the test's doing (a failpoint that kills it).
   */
  async start(extraEnv: Record<string, string> = {}, { expectExit = false } = {}): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.expectingExit = expectExit;
    this.armed = extraEnv.CHAT_FAILPOINTS !== undefined;
    const service = await startService(this.kind, { ...this.env, ...extraEnv }).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.stack.groupCoordinatorLog()}`, { cause: error });
    });
    this.service = service;
    service.process.once('exit', (code, signal) => {
      this.exits++;
      this.stack.history.record({
        op: 'process-exit',
        process: this.name,
        pid: service.process.pid ?? -1,
        code,
        signal,
        expected: this.expectingExit || this.stack.stopping,
      });
    });
  }

  /** SIGKILL: a crash. Returns once it has exited. */
  async kill(): Promise<void> {
    this.expectingExit = true;
    this.resume();
    await this.service?.kill();
  }

  /** SIGTERM and the graceful shutdown (a gateway drains). */
  async stop(graceMs?: number): Promise<number | null | undefined> {
    this.expectingExit = true;
    this.resume();
    return this.service?.stop(graceMs);
  }

  pause(): void {
    if (this.running) this.service!.process.kill('SIGSTOP');
  }

  resume(): void {
    if (this.running) this.service!.process.kill('SIGCONT');
  }

  /** Waits for the process to exit by itself (a failpoint's kill), up to `timeoutMs`. */
  async exited(timeoutMs: number): Promise<void> {
    await waitUntil(() => !this.running, timeoutMs, `${this.name} to exit`);
  }

  logs(): string {
    return this.service?.logs() ?? '';
  }

  /** Running, not stopped, and without failpoints, whatever a test left it as. */
  async recover(): Promise<void> {
    this.resume();
    if (this.running && !this.armed) return;
    if (this.running) await this.stop();
    await this.start();
  }

  /** Every proxy of this service's lanes: its Kafka paths and its Postgres path. */
  get proxies(): FaultProxy[] {
    return [...this.kafka, this.postgres];
  }
}

export interface FaultStackOptions {
  brokers?: number;
  gateways?: number;
  messaging?: number;
  presence?: boolean;
  partitions?: number;
  /** Added to every service's environment. */
  env?: Record<string, string>;
}

export class FaultStack {
  /** Where process exits and the harness's faults go: the current workload's history. */
  history = new History();
  stopping = false;
  readonly slots: ServiceSlot[] = [];
  readonly topics: TopicNames = topicNames(TOPIC_PREFIX);
  /** A pool straight to Postgres (no proxy): the harness's own reads of the stored state. */
  pool!: Pool;
  private current!: RunningPostgres;
  private admin!: Admin;

  private constructor(
    readonly infra: EphemeralInfra,
    private readonly databaseUrl: string,
  ) {
    this.current = infra.postgres;
  }

  static async start(options: FaultStackOptions = {}): Promise<FaultStack> {
    const brokers = options.brokers ?? 3;
    const specs: Array<{ name: string; kind: ServiceName }> = [
      ...Array.from({ length: options.gateways ?? 2 }, (_, i) => ({ name: `gateway-${i}`, kind: 'gateway' as const })),
      ...Array.from({ length: options.messaging ?? 2 }, (_, i) => ({ name: `messaging-${i}`, kind: 'messaging' as const })),
      ...(options.presence === false ? [] : [{ name: 'presence-0', kind: 'presence' as const }]),
    ];
    // A lane per service: on every broker a listener of its own, with a proxy in front that the listener advertises.
    const laneName = (slot: string) => slot.toUpperCase().replace(/-/g, '_');
    const kafkaProxies = new Map<string, FaultProxy[]>();
    const kafkaPorts: Array<{ lanes: Array<{ name: string; port: number; advertised: number }> }> = Array.from({ length: brokers }, () => ({ lanes: [] }));
    const opened: FaultProxy[] = [];
    try {
      for (const spec of specs) {
        const proxies: FaultProxy[] = [];
        for (let broker = 0; broker < brokers; broker++) {
          const port = await freePort();
          const proxy = await startFaultProxy({ port });
          opened.push(proxy);
          proxies.push(proxy);
          kafkaPorts[broker]!.lanes.push({ name: laneName(spec.name), port, advertised: proxy.port });
        }
        kafkaProxies.set(spec.name, proxies);
      }
      const infra = await startEphemeralInfra({ root, kind: 'faults', brokers, kafkaInMemory: true, kafkaHeapMb: BROKER_HEAP_MB, kafkaPorts });
      const database = new URL(infra.databaseUrl);
      database.pathname = '/chat_faults';
      const stack = new FaultStack(infra, database.toString());
      try {
        await stack.prepare(brokers, options.partitions ?? 6);
        for (const spec of specs) {
          const postgres = await startFaultProxy({ port: infra.postgres.port });
          opened.push(postgres);
          const url = new URL(stack.databaseUrl);
          url.port = String(postgres.port);
          const env: Record<string, string> = {
            JWT_SECRET,
            DATABASE_URL: url.toString(),
            KAFKA_BROKERS: infra.kafka.laneBrokers(laneName(spec.name)),
            KAFKA_TOPIC_PREFIX: TOPIC_PREFIX,
            MESSAGING_CONSUMER_GROUP: `${TOPIC_PREFIX}messaging`,
            PRESENCE_CONSUMER_GROUP: `${TOPIC_PREFIX}presence`,
            INSTANCE_ID: spec.name,
            // Fault runs send faster than a user may, and the storm signs in 10,000 users from one address and
            // creates a room for every 100 of them; SSE heartbeats often enough for a short read timeout.
            SEND_RATE_PER_SECOND: '1000',
            SEND_BURST: '1000',
            LOGIN_RATE_PER_SECOND: '100000',
            LOGIN_BURST: '100000',
            HTTP_CREATE_RATE_PER_SECOND: '1000',
            HTTP_CREATE_BURST: '1000',
            // Its raw clients resume by hand as fast as a fault lets them: the limits are the abuse suite's to test.
            HTTP_USER_RATE_PER_SECOND: '10000',
            HTTP_USER_BURST: '10000',
            STREAM_OPEN_RATE_PER_SECOND: '1000',
            STREAM_OPEN_BURST: '1000',
            WS_FRAME_RATE_PER_SECOND: '10000',
            WS_FRAME_BURST: '10000',
            SSE_HEARTBEAT_MS: '1000',
            // A drained gateway's clients leave over 2 s instead of 10: a test drains gateways often.
            DRAIN_WINDOW_MS: '2000',
            PORT: String(await freePort()),
            ...options.env,
          };
          stack.slots.push(new ServiceSlot(stack, spec.name, spec.kind, Number(env.PORT), env, { kafka: kafkaProxies.get(spec.name)!, postgres }));
        }
        await Promise.all(stack.slots.map((slot) => slot.start()));
        return stack;
      } catch (error) {
        await stack.stop().catch(() => undefined);
        throw error;
      }
    } catch (error) {
      await Promise.all(opened.map((proxy) => proxy.close()));
      throw error;
    }
  }

  /** The database, migrated, and the topics at RF min(3, brokers), as the chart's topic job makes them. */
  private async prepare(brokers: number, partitions: number): Promise<void> {
    const admin = createPool(this.infra.databaseUrl, createLogger('faults', 'error'), { max: 1 });
    await admin.query('CREATE DATABASE chat_faults');
    await admin.end();
    this.pool = createPool(this.databaseUrl, createLogger('faults', 'error'), { max: 4 });
    await migrate(this.pool);
    const kafka = new Kafka({ brokers: this.infra.kafka.directBrokers.split(','), logLevel: logLevel.NOTHING });
    this.admin = kafka.admin();
    await this.admin.connect();
    const replicationFactor = Math.min(3, brokers);
    const day = 24 * 3600 * 1000;
    await ensureTopics(
      this.admin,
      chatTopicSpecs(this.topics, {
        partitions,
        replicationFactor,
        minInsyncReplicas: replicationFactor >= 3 ? 2 : 1,
        retentionMs: { messages: day, events: day, heartbeats: day, deadLetters: day },
      }),
    );
  }

  slot(name: string): ServiceSlot {
    const slot = this.slots.find((candidate) => candidate.name === name);
    if (!slot) throw new Error(`no service ${name} in this stack (${this.slots.map((s) => s.name).join(', ')})`);
    return slot;
  }

  get gateways(): ServiceSlot[] {
    return this.slots.filter((slot) => slot.kind === 'gateway');
  }

  get messaging(): ServiceSlot[] {
    return this.slots.filter((slot) => slot.kind === 'messaging');
  }

  /** Gateways' URLs, the same across their restarts: what clients connect to. */
  get gatewayUrls(): string[] {
    return this.gateways.map((slot) => slot.url);
  }

  /** Records a fault in the history around `act` and returns its heal, to call when the fault should end. */
  inject(id: string, kind: string, target: string): { heal: () => void } {
    this.history.record({ op: 'fault', action: 'inject', id, kind, target });
    return { heal: () => this.history.record({ op: 'fault', action: 'heal', id, kind, target }) };
  }

  /** `pg_ctl stop -m immediate`, then the same server started again on its folder and port, after `downMs`. */
  async restartPostgres(downMs: number): Promise<void> {
    await this.current.stopImmediate().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.current = await startPostgres({ root, dataDir: this.current.dataDir, port: this.current.port, logFile: this.infra.logFiles.postgres });
  }

  /** The brokers' last rebalance lines (GroupCoordinator): why a replica took long to join its group. */
  groupCoordinatorLog(lines = 40): string {
    const found = this.infra.kafka.nodes.flatMap((node) => {
      let text: string;
      try {
        text = readFileSync(node.logFile, 'utf8');
      } catch {
        return [];
      }
      return text.split('\n').filter((line) => line.includes('GroupCoordinator')).map((line) => `broker-${node.id} ${line}`);
    });
    // Each line starts with its broker's time ([yyyy-MM-dd HH:mm:ss,SSS]), which sorts.
    found.sort((a, b) => a.slice(a.indexOf('[')).localeCompare(b.slice(b.indexOf('['))));
    return `── the brokers' last ${lines} rebalance lines ──\n${found.slice(-lines).join('\n')}`;
  }

  /**
   * Consumer lag of the messaging group: records of chat.messages not yet committed. The presence group on the
   * heartbeats topic likewise. Read past the proxies.
   */
  async lag(): Promise<{ messaging: number; presence: number }> {
    const of = async (groupId: string, topic: string) => {
      const [committed, ends] = await Promise.all([this.admin.fetchOffsets({ groupId, topics: [topic] }), this.admin.fetchTopicOffsets(topic)]);
      const high = new Map(ends.map((partition) => [partition.partition, Number(partition.high)]));
      let lag = 0;
      for (const partition of committed[0]?.partitions ?? []) {
        const end = high.get(partition.partition) ?? 0;
        const at = Number(partition.offset);
        lag += at < 0 ? end : Math.max(0, end - at);
      }
      return lag;
    };
    const [messaging, presence] = await Promise.all([of(`${TOPIC_PREFIX}messaging`, this.topics.messages), of(`${TOPIC_PREFIX}presence`, this.topics.heartbeats)]);
    return { messaging, presence };
  }

  /**
   * Every fault healed, whatever a test left behind (one that failed half-way): proxies clean, brokers and Postgres
   * running, every service running without failpoints. The next test starts from a whole deployment.
   */
  async recover(): Promise<void> {
    for (const slot of this.slots) for (const proxy of slot.proxies) await proxy.heal();
    for (const node of this.infra.kafka.nodes) node.resume();
    await Promise.all(this.infra.kafka.nodes.map((node) => node.start()));
    await this.infra.kafka.waitReady();
    if (!(await this.postgresAnswers())) await this.restartPostgres(0);
    for (const slot of this.slots) await slot.recover();
  }

  private async postgresAnswers(): Promise<boolean> {
    return this.pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  /** RSS and open files of every running service, broker and Postgres, into the history. */
  sample(): void {
    type Sampled = [name: string, pid: number | undefined, rssLimitBytes?: number];
    const processes: Sampled[] = [
      ...this.slots.map((slot): Sampled => [slot.name, slot.running ? slot.pid : undefined]),
      ...this.infra.kafka.nodes.map((node): Sampled => [`broker-${node.id}`, node.isRunning() ? node.pid() : undefined, BROKER_RSS_LIMIT_BYTES]),
      ['postgres', this.current.pid],
    ];
    for (const [name, pid, rssLimitBytes] of processes) {
      if (pid === undefined) continue;
      const sample = processSample(pid);
      if (sample) this.history.record({ op: 'process-sample', process: name, pid, ...sample, ...(rssLimitBytes === undefined ? {} : { rssLimitBytes }) });
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) for (const proxy of slot.proxies) await proxy.heal().catch(() => undefined);
    await Promise.allSettled(this.slots.map((slot) => slot.kill()));
    for (const slot of this.slots) for (const proxy of slot.proxies) await proxy.close();
    await this.admin?.disconnect().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    for (const node of this.infra.kafka.nodes) node.resume();
    await this.current.stop().catch(() => undefined);
    await this.infra.stop();
  }
}

function processSample(pid: number): { rssBytes: number; openFiles: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    const openFiles = readdirSync(`/proc/${pid}/fd`).length;
    return Number.isNaN(rss) ? undefined : { rssBytes: rss, openFiles };
  } catch {
    return undefined;
  }
}
