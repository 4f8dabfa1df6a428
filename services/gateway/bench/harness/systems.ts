/**
 * The systems under test, each started as its own process on loopback: ours
 * (a gateway, and a messaging process when messages must flow), Socket.IO and
 * Centrifugo. Each exposes its process id (memory is read from /proc), a heap
 * figure and the rooms a benchmark may use.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serviceNodeOptions } from '../../../../infra/local/node.mjs';
import { ApiClient, createTestDatabase, createTestTopics, isolatedServiceEnv, startService, type RunningService } from '@chat/testkit';
import type { SystemName, Target } from '../load/connectors';
import type { CpuGroups } from '../load/generator';
import { startCentrifugo } from './centrifugo';
import type { Scrape } from './prometheus';

export interface RunningSystem {
  name: SystemName;
  target: Target;
  pid: number;
  /** The processes that serve it, by name, for CPU accounting: ours counts Kafka and Postgres too. */
  cpuGroups: CpuGroups;
  rooms: string[];
  /** V8's used heap (Go's in-use heap for Centrifugo), in bytes. */
  heapBytes(): Promise<number>;
  /** Streams the server holds, by its own count, when it keeps one. */
  openStreams?(transport: 'websocket' | 'sse' | 'poll'): Promise<number>;
  /** Ours: every service's /metrics, by service name. */
  scrape?(): Promise<Scrape>;
  stop(): Promise<void>;
}

export const LABELS: Record<SystemName, string> = { ours: 'ours (gateway)', socketio: 'Socket.IO 4.8.1', centrifugo: 'Centrifugo 6.9.1' };

const GC_PRELOAD = fileURLToPath(new URL('../gc-on-signal.mjs', import.meta.url));
const SOCKET_IO_SERVER = fileURLToPath(new URL('../peers/socketio-server.ts', import.meta.url));
/**
 * Node servers under test collect garbage on SIGUSR2 (gc-on-signal.mjs), so memory is read after GC settles.
 * BENCH_NODE_OPTIONS adds flags for them (e.g. `--heapsnapshot-signal=SIGUSR1`, or `--cpu-prof`, which Node 24 takes in
 * NODE_OPTIONS), after the services' own V8 settings
 * (infra/local/node.mjs), which the Socket.IO server gets too: both Node servers run on the same runtime settings.
 */
export const NODE_SERVER_OPTIONS = `--import=${GC_PRELOAD} ${process.env.BENCH_NODE_OPTIONS ?? ''}`.trim();

export function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** A Node server under test collects garbage; then give it a moment to return pages. */
export async function settle(system: RunningSystem): Promise<void> {
  if (system.name !== 'centrifugo') process.kill(system.pid, 'SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name}{`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

export async function startOurs(options: { rooms: number; messaging: boolean }): Promise<RunningSystem> {
  const [db, topics] = await Promise.all([createTestDatabase(), createTestTopics(6)]);
  const env = {
    ...isolatedServiceEnv(db, topics),
    // One benchmark user holds every connection and sends every message.
    MAX_STREAMS_PER_USER: '1000000',
    MAX_STREAMS_PER_IP: '1000000',
    SEND_RATE_PER_SECOND: '1000000',
    SEND_BURST: '1000000',
    // And creates every room of the run, and opens every stream of it.
    HTTP_CREATE_RATE_PER_SECOND: '1000000',
    HTTP_CREATE_BURST: '1000000',
    STREAM_OPEN_RATE_PER_SECOND: '1000000',
    STREAM_OPEN_BURST: '1000000',
    WS_FRAME_RATE_PER_SECOND: '1000000',
    WS_FRAME_BURST: '1000000',
  };
  const services: RunningService[] = [];
  try {
    services.push(await startService('gateway', { ...env, INSTANCE_ID: `${topics.prefix}gw`, NODE_OPTIONS: NODE_SERVER_OPTIONS }));
    if (options.messaging) services.push(await startService('messaging', env));
    const gateway = services[0]!;
    const cpuGroups: CpuGroups = { gateway: [gateway.process.pid!] };
    if (options.messaging) cpuGroups.messaging = [services[1]!.process.pid!];
    // Set by scripts/bench.mjs, which starts them; the postmaster's children, its backends, count with it.
    if (process.env.BENCH_KAFKA_PID) cpuGroups.Kafka = [Number(process.env.BENCH_KAFKA_PID)];
    if (process.env.BENCH_POSTGRES_PID) cpuGroups.Postgres = [Number(process.env.BENCH_POSTGRES_PID)];
    const api = await ApiClient.login(gateway.url, 'bench');
    const rooms = await Promise.all(Array.from({ length: options.rooms }, (_, i) => api.createRoom(`bench-${i}`).then((room) => room.id)));
    const quietRoom = (await api.createRoom('bench-quiet')).id;
    return {
      name: 'ours',
      target: { system: 'ours', url: gateway.url, token: api.token, quietRoom },
      pid: gateway.process.pid!,
      cpuGroups,
      rooms,
      heapBytes: () => metric(gateway.url, 'nodejs_heap_size_used_bytes'),
      openStreams: (transport) => metric(gateway.url, 'chat_connections_open', `{transport="${transport}"}`),
      async scrape() {
        const texts = await Promise.all(services.map(async (service) => (await fetch(`${service.url}/metrics`)).text()));
        return Object.fromEntries(services.map((service, i) => [service.name, texts[i]!]));
      },
      async stop() {
        await Promise.all(services.map((service) => service.kill()));
        await db.drop();
      },
    };
  } catch (error) {
    await Promise.all(services.map((service) => service.kill()));
    await db.drop();
    throw error;
  }
}

export async function startSocketIo(rooms: number): Promise<RunningSystem> {
  const child = spawn(process.execPath, ['--import', 'tsx', SOCKET_IO_SERVER], {
    env: { ...process.env, NODE_OPTIONS: serviceNodeOptions(NODE_SERVER_OPTIONS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = /listening on (\d+)/.exec(line.toString())?.[1];
  if (!port) throw new Error(`socket.io server did not start: ${line.toString()}`);
  const url = `http://127.0.0.1:${port}`;
  return {
    name: 'socketio',
    target: { system: 'socketio', url },
    pid: child.pid!,
    cpuGroups: { server: [child.pid!] },
    rooms: Array.from({ length: rooms }, (_, i) => `room${i}`),
    heapBytes: async () => Number(await (await fetch(`${url}/heap`)).text()),
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function startPeerCentrifugo(rooms: number): Promise<RunningSystem> {
  const server = await startCentrifugo();
  return {
    name: 'centrifugo',
    target: { system: 'centrifugo', url: server.url },
    pid: server.pid,
    cpuGroups: { server: [server.pid] },
    rooms: Array.from({ length: rooms }, (_, i) => `room${i}`),
    heapBytes: () => metric(server.url, 'go_memstats_heap_inuse_bytes'),
    stop: server.stop,
  };
}

export function startSystem(name: SystemName, options: { rooms: number; messaging: boolean }): Promise<RunningSystem> {
  if (name === 'ours') return startOurs(options);
  if (name === 'socketio') return startSocketIo(options.rooms);
  return startPeerCentrifugo(options.rooms);
}
