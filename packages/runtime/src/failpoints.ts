/**
 * Failpoints: named places in the services' code where a fault test makes the process die, stop or fail at an exact
 * moment (after a batch is stored and before it is published, while a room's lock is held, ...), which no signal sent
 * from outside can hit reliably. Inert unless `CHAT_FAILPOINTS` arms some at start-up; docs/faults.md tells how.
 *
 *   CHAT_FAILPOINTS="messaging.after-store=kill@3,gateway.before-deliver=pause"
 *
 * Each entry is `name=action[@N|@N+]`:
 * - `kill`: SIGKILL this process (a crash: no cleanup, no flush, no goodbye to Kafka or Postgres);
 * - `pause`: SIGSTOP this process, until something sends it SIGCONT (a frozen VM, a long GC);
 * - `throw`: throw a FailpointError from the point (the caller's error path runs);
 * - `bug`: throw a TypeError from the point, as a programming error would (kafkajs gives up on a consumer for good);
 * - `sleep:<ms>`: block the whole process for that long, then go on (a pause that ends by itself).
 * `@N` fires once, on the Nth hit of the point in this process; `@N+` on the Nth and every later hit; no suffix is
 * `@1`. A name that no service has, or one of another service, fails the process at start: a typo must never make a
 * fault test pass because nothing fired.
 */
import type { Logger } from 'pino';
import { ConfigError, readConfig, str } from './config';

/** Every failpoint, by service, and the window it opens. The prefix names the service that has it. */
export const FAILPOINTS = {
  'messaging.after-store': "A batch of chat.messages is stored in Postgres, and none of its events is published yet.",
  'messaging.after-publish': "A batch's events and dead letters are durable in Kafka, and its offset is not yet marked for commit.",
  'messaging.room-locked':
    "Inside a batch's transaction with edits or deletes, right after its rooms' counter rows are locked (a batch of plain sends locks them inside one statement: no window there).",
  'gateway.before-ack': "A send, edit or delete is durable in chat.messages, and its client's ack (or 202) is not written yet.",
  'gateway.before-deliver': 'A room event is about to be handed to one stream (live or from catch-up); its position has not moved.',
} as const;

export type FailpointName = keyof typeof FAILPOINTS;
export type FailpointService = 'gateway' | 'messaging' | 'presence';

export type FailpointAction = { kind: 'kill' } | { kind: 'pause' } | { kind: 'throw' } | { kind: 'bug' } | { kind: 'sleep'; ms: number };

export interface ArmedFailpoint {
  name: FailpointName;
  action: FailpointAction;
  /** The hit it first fires on (1-based). */
  from: number;
  /** Fires on every hit from `from` on, instead of once. */
  repeat: boolean;
}

/** What a `throw` failpoint throws: its name says it was planned. */
export class FailpointError extends Error {
  constructor(
    readonly failpoint: FailpointName,
    readonly hit: number,
  ) {
    super(`failpoint ${failpoint} fired (hit ${hit})`);
    this.name = 'FailpointError';
  }
}

export const failpointsConfigSpec = {
  failpoints: str('CHAT_FAILPOINTS', '', {
    doc: 'Fault tests only: failpoints to arm, e.g. `messaging.after-store=kill@3` (docs/faults.md). A name this service does not have fails the start.',
  }),
};

const ENTRY = /^([a-z][a-z0-9-]*\.[a-z][a-z0-9-]*)=(kill|pause|throw|bug|sleep:(\d+))(?:@(\d+)(\+)?)?$/;

const namesOf = (service: FailpointService) => (Object.keys(FAILPOINTS) as FailpointName[]).filter((name) => name.startsWith(`${service}.`));

/** The failpoints `spec` arms in `service`; a ConfigError naming every bad entry and the service's failpoints otherwise. */
export function parseFailpoints(spec: string, service: FailpointService): ArmedFailpoint[] {
  const known = namesOf(service);
  const problems: string[] = [];
  const armed: ArmedFailpoint[] = [];
  for (const entry of spec.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = ENTRY.exec(entry);
    if (!match) {
      problems.push(`CHAT_FAILPOINTS: ${JSON.stringify(entry)} is not name=kill|pause|throw|bug|sleep:<ms>[@N|@N+]`);
      continue;
    }
    const [, name, action, sleepMs, from, repeat] = match as unknown as [string, string, string, string | undefined, string | undefined, string | undefined];
    if (!(known as string[]).includes(name)) {
      problems.push(`CHAT_FAILPOINTS: ${service} has no failpoint ${JSON.stringify(name)}; its failpoints are ${known.join(', ') || 'none'}`);
      continue;
    }
    if (armed.some((point) => point.name === name)) {
      problems.push(`CHAT_FAILPOINTS: ${name} is armed twice`);
      continue;
    }
    const hit = from === undefined ? 1 : Number(from);
    if (hit < 1) problems.push(`CHAT_FAILPOINTS: ${name} counts hits from @1, got @${from}`);
    armed.push({
      name: name as FailpointName,
      action: sleepMs === undefined ? { kind: action as 'kill' | 'pause' | 'throw' | 'bug' } : { kind: 'sleep', ms: Number(sleepMs) },
      from: hit,
      repeat: repeat === '+',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return armed;
}

interface PointState {
  point: ArmedFailpoint;
  hits: number;
}

// The one thing every hit reads while nothing is armed: `failpoint()` is a function V8 inlines into a check of this.
let anyArmed = false;
let points = new Map<string, PointState>();
let log: Pick<Logger, 'warn'> | undefined;

/**
 * A place in the code where an armed fault fires. Costs one boolean check while nothing is armed in this process
 * (always, outside fault tests): no lookup, no allocation, no await, so it may sit on the hottest paths.
 */
export function failpoint(name: FailpointName): void {
  if (anyArmed) hit(name);
}

function hit(name: FailpointName): void {
  const state = points.get(name);
  if (!state) return;
  const { point } = state;
  const n = ++state.hits;
  if (n < point.from || (n > point.from && !point.repeat)) return;
  // The service logger writes synchronously (createLogger): this line is out before a kill or a stop. The chaos
  // runner waits for it to know the fault happened.
  log?.warn({ failpoint: name, action: point.action.kind, hit: n }, 'failpoint fired');
  switch (point.action.kind) {
    case 'kill':
      process.kill(process.pid, 'SIGKILL');
      return;
    case 'pause':
      // Returns once something sends SIGCONT; the process then goes on from here.
      process.kill(process.pid, 'SIGSTOP');
      return;
    case 'throw':
      throw new FailpointError(name, n);
    case 'bug':
      throw new TypeError(`failpoint ${name} fired (hit ${n}): a planned bug`);
    case 'sleep':
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, point.action.ms);
      return;
  }
}

/**
 * Arms what CHAT_FAILPOINTS names for this service (each main.ts calls this first thing), or throws a ConfigError,
 * which stops the start. Logs what it armed, so a fault test's logs say what the process was set up to do.
 */
export function armFailpoints(service: FailpointService, logger: Pick<Logger, 'warn'>, env: Record<string, string | undefined> = process.env): void {
  const armed = parseFailpoints(readConfig(failpointsConfigSpec, env).failpoints, service);
  points = new Map(armed.map((point) => [point.name, { point, hits: 0 }]));
  log = logger;
  anyArmed = armed.length > 0;
  if (anyArmed) logger.warn({ failpoints: armed.map(({ name, action, from, repeat }) => ({ name, action, from, repeat })) }, 'failpoints armed');
}
