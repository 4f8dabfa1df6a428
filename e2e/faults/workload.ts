// The traffic of a fault run: rooms with members, raw recording clients of every kind (WebSocket, SSE and long-poll
// receivers of some rooms and of all rooms, pipelining and sequential WebSocket senders, sequential and pipelining
// HTTP senders) and the real SDK on each transport (sending too), paced sends until told to stop, then a settle (every stream caught up with every room's log,
// consumer lag 0) and the checker's verdict over the history and what Postgres stored.
import {
  check,
  formatReport,
  History,
  HttpSender,
  PollReceiver,
  readStoredState,
  SdkClient,
  SseReceiver,
  WsReceiver,
  WsSender,
  type CheckOptions,
  type CheckReport,
  type ResumingReceiver,
  type SendResult,
} from '@chat/chaos';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiClient, waitUntil } from '@chat/testkit';
import type { FaultStack } from './fault-stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface WorkloadOptions {
  /** A name of its own: users and clients are named after it, so workloads on one stack never meet. */
  name: string;
  rooms?: number;
  /** Between two sends of one sender. */
  sendIntervalMs?: number;
  /** Whether the history keeps each frame's raw text (for people reading it); true by default. */
  keepRawFrames?: boolean;
}

export interface WorkloadResult {
  report: CheckReport;
  /** The checker's report as text, for an assertion's message. */
  text: string;
  results: SendResult[];
  /** The sends that did not end acknowledged, by sender and outcome (`ws-seq indeterminate: 3`). */
  unacked: Record<string, number>;
}

/**
 * The checker's bounds for a fault run. Under traffic, committed offsets trail the log by what the committer has
 * not committed yet (it commits on an interval), so "caught up" after a heal is a lag within a second's traffic; the
 * settle itself waits for a lag of 0. A JVM's RSS grows for its first half minute as it touches its heap: the
 * baseline is taken past that.
 */
export const FAULT_CHECK_OPTIONS: Partial<CheckOptions> = { maxLagAfterHeal: 50, rssWarmupMs: 30_000 };

export class Workload {
  readonly history: History;
  rooms: string[] = [];
  receivers: ResumingReceiver[] = [];
  wsSenders: WsSender[] = [];
  httpSenders: HttpSender[] = [];
  sdkClients: SdkClient[] = [];
  private sending = false;
  private loops: Array<Promise<void>> = [];
  private readonly results: Array<Promise<{ client: string; result: SendResult }>> = [];
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly stack: FaultStack,
    private readonly options: WorkloadOptions,
  ) {
    this.history = new History(undefined, { keepRawFrames: options.keepRawFrames ?? true });
  }

  /** Users, rooms and clients, every client connected; the stack's exits and faults go to this history from now on. */
  async start(): Promise<void> {
    this.stack.history = this.history;
    const { name } = this.options;
    const gateway = this.stack.gatewayUrls[0]!;
    const owner = await ApiClient.login(gateway, `${name}_owner`);
    this.rooms = await Promise.all(Array.from({ length: this.options.rooms ?? 3 }, (_, i) => owner.createRoom(`${name} ${i}`).then((room) => room.id)));
    const login = async (user: string) => {
      const client = await ApiClient.login(gateway, `${name}_${user}`);
      for (const room of this.rooms) await client.joinRoom(room);
      return client;
    };
    const history = this.history;
    const baseUrls = this.stack.gatewayUrls;
    const rooms = this.rooms;
    // Quick to notice a dead connection and to come back: a fault run's bounds are seconds.
    const fast = { backoff: { baseMs: 100, maxMs: 2_000 }, openTimeoutMs: 5_000 };
    // A send waits out a broker outage or a paused gateway: acked late rather than given up on.
    const patient = { maxAttempts: 40, sendDeadlineMs: 90_000 };
    this.receivers = [
      new WsReceiver({ history, client: 'ws-rooms', identity: await login('ws_rooms'), baseUrls, rooms, pingIntervalMs: 1_000, ...fast }),
      new WsReceiver({ history, client: 'ws-all', identity: await login('ws_all'), baseUrls, pingIntervalMs: 1_000, ...fast }),
      new SseReceiver({ history, client: 'sse-rooms', identity: await login('sse_rooms'), baseUrls, rooms, readTimeoutMs: 3_000, ...fast }),
      new SseReceiver({ history, client: 'sse-all', identity: await login('sse_all'), baseUrls, readTimeoutMs: 3_000, ...fast }),
      new PollReceiver({ history, client: 'poll-rooms', identity: await login('poll_rooms'), baseUrls, rooms, pollTimeoutSeconds: 2, ...fast }),
      new PollReceiver({ history, client: 'poll-all', identity: await login('poll_all'), baseUrls, pollTimeoutSeconds: 2, ...fast }),
    ];
    this.wsSenders = [
      new WsSender({ history, client: 'ws-pipe', identity: await login('ws_pipe'), baseUrls, rooms, window: 4, ackTimeoutMs: 5_000, pingIntervalMs: 1_000, ...fast, ...patient }),
      new WsSender({ history, client: 'ws-seq', identity: await login('ws_seq'), baseUrls, rooms, window: 1, ackTimeoutMs: 5_000, pingIntervalMs: 1_000, ...fast, ...patient }),
    ];
    this.httpSenders = [
      new HttpSender({ history, client: 'http-seq', identity: await login('http_seq'), baseUrls, window: 1, requestTimeoutMs: 5_000, maxAttempts: 40 }),
      new HttpSender({ history, client: 'http-pipe', identity: await login('http_pipe'), baseUrls, window: 3, requestTimeoutMs: 5_000, maxAttempts: 40 }),
    ];
    this.sdkClients = await Promise.all(
      (['websocket', 'sse', 'poll'] as const).map(
        async (transport, i) =>
          new SdkClient({ history, client: `sdk-${transport}`, identity: await login(`sdk_${transport}`), transport, baseUrls, ...(i === 1 ? {} : { rooms }), sendDeadlineMs: 90_000 }),
      ),
    );
    await Promise.all(this.clients.map((client) => client.start()));
    this.stack.sample();
    this.sampler = setInterval(() => {
      this.stack.sample();
      // Lag through a broker outage cannot be read: that sample is skipped, as a metrics scrape would fail.
      this.stack
        .lag()
        .then(({ messaging }) => this.history.record({ op: 'lag-sample', consumer: 'messaging', lag: messaging }))
        .catch(() => undefined);
    }, 2_000);
  }

  private get streams(): Array<ResumingReceiver | SdkClient> {
    return [...this.receivers, ...this.wsSenders, ...this.sdkClients];
  }

  private get clients() {
    return [...this.streams, ...this.httpSenders];
  }

  /** Every sender sends one message every interval, to the rooms in turn, until `stopSending()`. */
  startSending(): void {
    this.sending = true;
    const interval = this.options.sendIntervalMs ?? 150;
    const senders = [...this.wsSenders, ...this.httpSenders, ...this.sdkClients];
    this.loops = senders.map(async (sender, index) => {
      for (let n = 0; this.sending; n++) {
        const room = this.rooms[(n + index) % this.rooms.length]!;
        const result = sender.send(room, `message ${n} from ${sender.client} of ${this.options.name}`);
        this.results.push(result.then((outcome) => ({ client: sender.client, result: outcome })));
        // A sequential sender waits for each outcome (the SDK sends one at a time: it too); a pipelining one keeps its
        // pace (its window bounds it). The SDK clients send at a third of the pace: they are receivers first.
        if (sender.client.endsWith('-seq') || sender instanceof SdkClient) await result;
        await sleep(sender instanceof SdkClient ? interval * 3 : interval);
      }
    });
  }

  async stopSending(): Promise<Array<{ client: string; result: SendResult }>> {
    this.sending = false;
    await Promise.all(this.loops);
    return Promise.all(this.results);
  }

  /** Sends for `ms`: the run's traffic between faults. */
  async run(ms: number): Promise<void> {
    await sleep(ms);
  }

  /**
   * Waits until every stream is open and holds every room's last entry, and the consumers have no lag; records the
   * lag and the settled moment. Throws (with what is missing) after `timeoutMs`.
   */
  async settle(timeoutMs = 60_000): Promise<void> {
    const last = async () => {
      const { rows } = await this.stack.pool.query<{ id: string; last_seq: string }>('SELECT id, last_seq FROM rooms WHERE id = ANY($1::uuid[])', [this.rooms]);
      return new Map(rows.map((row) => [row.id, Number(row.last_seq)]));
    };
    let behind = '';
    await waitUntil(
      async () => {
        await sleep(250);
        const lastSeqs = await last();
        const highest = new Map<string, number>();
        for (const op of this.history.ops) {
          if (op.op !== 'frame' || op.seq === undefined || op.room === undefined) continue;
          const key = `${op.client}#${op.room}`;
          highest.set(key, Math.max(highest.get(key) ?? 0, op.seq));
        }
        const lagging = this.streams.flatMap((stream) =>
          !stream.connected ? [`${stream.client} not connected`] : this.rooms.filter((room) => highest.get(`${stream.client}#${room}`) !== lastSeqs.get(room)).map((room) => `${stream.client} behind in ${room}: ${highest.get(`${stream.client}#${room}`) ?? 0} of ${lastSeqs.get(room)}`),
        );
        const lag = await this.stack.lag().catch(() => ({ messaging: -1, presence: -1 }));
        behind = [...lagging, ...(lag.messaging !== 0 ? [`messaging lag ${lag.messaging}`] : [])].join('; ');
        if (behind) return false;
        this.history.record({ op: 'lag-sample', consumer: 'messaging', lag: lag.messaging });
        return true;
      },
      timeoutMs,
      'the run to settle',
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${behind}`);
    });
    this.history.record({ op: 'settled' });
  }

  /** Stops every client and judges the history against what Postgres holds. */
  async finish(checkOptions: Partial<CheckOptions> = {}): Promise<WorkloadResult> {
    clearInterval(this.sampler);
    this.stack.sample();
    const ended = await this.stopSending();
    await Promise.all(this.clients.map((client) => client.stop()));
    const stored = await readStoredState(this.stack.pool, this.rooms);
    // FAULT_HISTORY_DIR keeps each run's history (JSON Lines) for reading after the fact.
    const keep = process.env.FAULT_HISTORY_DIR;
    if (keep) {
      await this.history.writeJsonLines(join(keep, `${this.options.name}.history.jsonl`));
      for (const slot of this.stack.slots) await writeFile(join(keep, `${this.options.name}.${slot.name}.log`), slot.logs());
    }
    const report = check(this.history.ops, stored, { ...FAULT_CHECK_OPTIONS, ...checkOptions });
    const unacked: Record<string, number> = {};
    for (const { client, result } of ended) if (result !== 'ack') unacked[`${client} ${result}`] = (unacked[`${client} ${result}`] ?? 0) + 1;
    return { report, text: formatReport(report), results: ended.map(({ result }) => result), unacked };
  }

  /** Stops everything without judging (a test that failed before its end). */
  async abort(): Promise<void> {
    clearInterval(this.sampler);
    this.sending = false;
    await Promise.allSettled(this.clients.map((client) => client.stop()));
  }
}
