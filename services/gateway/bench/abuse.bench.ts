/**
 * What one hostile user costs everyone else on a gateway (issue #27): a victim's history call, its p99 while idle
 * against its p99 while another user floods the same gateway with typing frames for random rooms and subscribe frames
 * naming 1,024 random rooms — each, handled, a Postgres read — over as many WebSockets as the stream cap lets them
 * open, reopening every one that is closed. Twice: with the gateway's limits as shipped, and with them lifted (the
 * frame and API buckets a million wide), which is what the limits buy. Run through `npm run bench -- abuse`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ApiClient, startTestStack } from '@chat/testkit';
import { emitMarkdown } from './harness/report';

const CALLS = 300;
/** The victim's pace: below its own API limit (HTTP_USER_RATE_PER_SECOND, 50), as a busy client would call. */
const CALLS_PER_SECOND = 40;
const FLOOD_CONNECTIONS = 20;
/** Frames each flooding connection writes per millisecond tick, as fast as the socket takes them. */
const FRAMES_PER_TICK = 10;
const UNLIMITED = '1000000';

interface CaseResult {
  name: string;
  idle: Latency;
  flooded: Latency;
  framesSent: number;
  refused: number;
  closes: number;
  victimErrors: number;
}

interface Latency {
  p50: number;
  p99: number;
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function historyCalls(victim: ApiClient, room: string): Promise<{ samples: number[]; errors: number }> {
  const samples: number[] = [];
  let errors = 0;
  const begun = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const due = begun + (i * 1000) / CALLS_PER_SECOND;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    const started = performance.now();
    const answer = await victim.request('GET', `/api/rooms/${room}/messages?limit=50`);
    samples.push(performance.now() - started);
    if (answer.status !== 200) errors++;
  }
  return { samples, errors };
}

/**
 * The attacker, in a process of its own (its frames are built and written on another core than the victim's timing):
 * FLOOD_CONNECTIONS sockets writing typing and subscribe frames for random rooms, each reopened when closed. It prints
 * its counts as JSON when told to stop (SIGTERM).
 */
function floodProcess(gateway: string, token: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, ABUSE_FLOOD: JSON.stringify({ gateway, token }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  return {
    stop: async (): Promise<{ framesSent: number; refused: number; closes: number }> => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(output.trim().split('\n').at(-1)!) as { framesSent: number; refused: number; closes: number };
    },
  };
}

/** The flood itself, in the attacker's process. */
function flood(gateway: string, token: string) {
  let running = true;
  const counts = { framesSent: 0, refused: 0, closes: 0 };
  const sockets = new Set<WebSocket>();
  const open = () => {
    if (!running) return;
    const socket = new WebSocket(`${gateway.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
    sockets.add(socket);
    let timer: NodeJS.Timeout | undefined;
    socket.on('open', () => {
      timer = setInterval(() => {
        if (socket.bufferedAmount > 256 * 1024) return;
        for (let i = 0; i < FRAMES_PER_TICK; i++) {
          const frame = i % 5 === 0 ? { type: 'subscribe', rooms: Array.from({ length: 1024 }, () => randomUUID()) } : { type: 'typing', room: randomUUID() };
          socket.send(JSON.stringify(frame));
          counts.framesSent++;
        }
      }, 1);
    });
    socket.on('message', (data) => {
      if (data.toString().includes('"rate_limited"')) counts.refused++;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      counts.closes++;
      if (running) setTimeout(open, 50);
    });
  };
  for (let i = 0; i < FLOOD_CONNECTIONS; i++) open();
  return {
    counts,
    stop: () => {
      running = false;
      for (const socket of sockets) socket.terminate();
    },
  };
}

async function runCase(name: string, env: Record<string, string>): Promise<CaseResult> {
  const stack = await startTestStack({ env: { MAX_STREAMS_PER_USER: String(FLOOD_CONNECTIONS), ...env } });
  try {
    const gateway = stack.gateways[0]!.url;
    const victim = await ApiClient.login(gateway, 'victim');
    const room = await victim.createRoom('quiet');
    for (let i = 0; i < 20; i++) await victim.request('POST', `/api/rooms/${room.id}/messages`, { clientMsgId: `m${i}`, text: `message ${i}` });
    // A warm-up (the pool's connections, the JIT), then the idle figures.
    await historyCalls(victim, room.id);
    const idle = await historyCalls(victim, room.id);
    const attacker = await ApiClient.login(gateway, 'attacker');
    const attack = floodProcess(gateway, attacker.token);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const flooded = await historyCalls(victim, room.id);
    const counts = await attack.stop();
    const result = { name, idle: latency(idle.samples), flooded: latency(flooded.samples), ...counts, victimErrors: idle.errors + flooded.errors };
    console.log(
      `${name}: victim p99 ${result.idle.p99.toFixed(1)} ms idle, ${result.flooded.p99.toFixed(1)} ms flooded (×${(result.flooded.p99 / result.idle.p99).toFixed(2)}); ` +
        `${result.framesSent} frames sent, ${result.refused} refused, ${result.closes} sockets closed, ${result.victimErrors} victim errors`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

if (process.env.ABUSE_FLOOD) {
  const { gateway, token } = JSON.parse(process.env.ABUSE_FLOOD) as { gateway: string; token: string };
  const attack = flood(gateway, token);
  process.once('SIGTERM', () => {
    attack.stop();
    console.log(JSON.stringify(attack.counts));
    process.exit(0);
  });
} else {
  await main();
}

async function main(): Promise<void> {
  const shipped = await runCase('limits as shipped', {});
  const lifted = await runCase('limits lifted', {
    WS_FRAME_RATE_PER_SECOND: UNLIMITED,
    WS_FRAME_BURST: UNLIMITED,
    HTTP_USER_RATE_PER_SECOND: UNLIMITED,
    HTTP_USER_BURST: UNLIMITED,
    STREAM_OPEN_RATE_PER_SECOND: UNLIMITED,
    STREAM_OPEN_BURST: UNLIMITED,
  });
  const row = (r: CaseResult) =>
    `| ${r.name} | ${r.idle.p50.toFixed(1)} / ${r.idle.p99.toFixed(1)} | ${r.flooded.p50.toFixed(1)} / ${r.flooded.p99.toFixed(1)} | **${(r.flooded.p99 / r.idle.p99).toFixed(2)}×** | ${r.framesSent.toLocaleString('en')} | ${r.refused.toLocaleString('en')} | ${r.closes} | ${r.victimErrors} |`;
  emitMarkdown(`## One user's flood, another user's history calls

A victim's \`GET /api/rooms/:id/messages?limit=50\`, ${CALLS} calls one after another, ${CALLS_PER_SECOND} a second, idle and then
while another user, in a process of its own, floods the same gateway over ${FLOOD_CONNECTIONS} WebSockets (the stream cap for the run) with typing frames for random rooms and
subscribe frames naming 1,024 random rooms, each socket reopened 50 ms after it is closed. One gateway, messaging, Kafka
and Postgres on this machine.

| gateway limits | idle p50 / p99 (ms) | flooded p50 / p99 (ms) | p99 flooded ÷ idle | attacker frames sent | refused \`rate_limited\` | attacker sockets closed (4029) or refused (429) | victim errors |
|---|---:|---:|---:|---:|---:|---:|---:|
${row(shipped)}
${row(lifted)}

The target (issue #27) is a flooded p99 within 2× the idle one with the limits as shipped. The attacker's process
shares this machine's two cores with the gateway, Postgres, Kafka and the victim: what its own work costs the
others is in the figure too.`);
}
