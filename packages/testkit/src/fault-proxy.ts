import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** `upstream`: what the client sends the server. `downstream`: what the server sends back. */
export type Direction = 'upstream' | 'downstream';
export type Directions = Direction | 'both';

export interface LatencyFault {
  ms: number;
  /** Each chunk's delay is `ms` ± up to this much, uniformly; chunks still arrive in the order they were sent. */
  jitterMs?: number;
  direction?: Directions;
}

export interface FaultProxy {
  /** The loopback port it listens on: what clients (and a broker's `advertised.listeners`) are given. */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Client connections open now. */
  readonly openConnections: number;
  /** Client connections accepted since the start, reset ones included. */
  readonly acceptedConnections: number;
  /** Every chunk that arrives from now on waits `ms` ± `jitterMs` before it goes on. */
  latency(fault: LatencyFault): void;
  /**
   * Nothing goes through, in either direction or one: bytes are held (the proxy stops reading, so the sender's
   * buffers fill as on a dead path), connections stay open, and new ones are accepted and held too. After heal() the
   * held bytes go on, as TCP's retransmissions would deliver them once a path is back.
   */
  blackhole(direction?: Directions): void;
  /** Bytes in one direction are swallowed, never delivered; the other direction flows. */
  drop(direction: Direction): void;
  /** RST on every open connection, both ends; with `newConnections`, also on each new one until heal(). */
  reset(options?: { newConnections?: boolean }): void;
  /**
   * Stops listening: a new connection is refused (ECONNREFUSED), as a host whose server is down refuses it; open
   * connections are kept (reset() them too for a crashed server). heal() listens on the same port again.
   */
  refuse(): Promise<void>;
  /**
   * Clean pass-through again: no latency, held bytes go on, refused connections are accepted. A connection that lost
   * bytes to drop() is reset, as TCP gives up on a connection whose bytes never arrive: what follows on it would no
   * longer be the stream its peer sent.
   */
  heal(): Promise<void>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

interface DirectionFaults {
  latencyMs: number;
  jitterMs: number;
  held: boolean;
  dropping: boolean;
}

/** What one pipe holds before it stops reading its source, so a slow or held destination bounds the memory. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** One direction of one connection: chunks from its source, each at its due time and in order, into its destination. */
class Pipe {
  private readonly queue: Array<{ chunk: Buffer; due: number }> = [];
  private queuedBytes = 0;
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private sourceEnded = false;
  private source: Socket | undefined;
  private destination: Socket | undefined;
  /** drop() swallowed some of its bytes: its destination no longer reads the stream that was sent. */
  lostBytes = false;

  constructor(private readonly faults: DirectionFaults) {}

  from(source: Socket): void {
    this.source = source;
    source.on('data', (chunk: Buffer) => this.take(chunk));
    source.on('end', () => this.endOfSource());
    if (this.faults.held) source.pause();
  }

  to(destination: Socket): void {
    this.destination = destination;
    this.pump();
  }

  /** The source is gone: what is queued still goes, then the destination is ended. */
  endOfSource(): void {
    if (this.sourceEnded) return;
    this.sourceEnded = true;
    this.pump();
  }

  hold(): void {
    this.source?.pause();
  }

  /** Faults changed: held bytes go on, a source that was paused is read again. */
  release(): void {
    this.pump();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private take(chunk: Buffer): void {
    if (this.faults.dropping) {
      this.lostBytes = true;
      return;
    }
    const { latencyMs, jitterMs } = this.faults;
    const delay = latencyMs > 0 || jitterMs > 0 ? Math.max(0, latencyMs + (Math.random() * 2 - 1) * jitterMs) : 0;
    // Never before an earlier chunk: jitter reorders nothing, as on one TCP connection.
    const due = Math.max(performance.now() + delay, this.lastDue);
    this.lastDue = due;
    this.queue.push({ chunk, due });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes >= HIGH_WATER_BYTES) this.source?.pause();
    this.pump();
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const destination = this.destination;
    if (this.faults.held || !destination || this.waitingForDrain) return;
    if (destination.destroyed) {
      this.stop();
      return;
    }
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(wait));
        break;
      }
      this.queue.shift();
      this.queuedBytes -= head.chunk.length;
      if (!destination.write(head.chunk)) {
        this.waitingForDrain = true;
        destination.once('drain', () => {
          this.waitingForDrain = false;
          this.pump();
        });
        return;
      }
    }
    if (this.queue.length === 0 && this.sourceEnded) {
      if (!destination.writableEnded) destination.end();
    } else if (this.queuedBytes < HIGH_WATER_BYTES) this.source?.resume();
  }
}

/** One client connection and its connection to the target. */
class Link {
  private upstream: Socket | undefined;
  readonly up: Pipe;
  readonly down: Pipe;
  private clientClosed = false;
  private upstreamClosed = false;

  constructor(
    readonly client: Socket,
    faults: Record<Direction, DirectionFaults>,
    private readonly target: { host: string; port: number },
    private readonly onClosed: (link: Link) => void,
  ) {
    this.up = new Pipe(faults.upstream);
    this.down = new Pipe(faults.downstream);
    this.up.from(client);
    this.down.to(client);
    // An error on one side (a reset, a target that refuses) resets the other; a clean close ends the other side once
    // what is queued for it is out.
    client.on('error', () => resetSocket(this.upstream));
    client.on('close', () => {
      this.clientClosed = true;
      this.up.endOfSource();
      this.down.stop();
      this.closedIfDone();
    });
    // Held upstream: not even the connection to the target is made until the path is back.
    if (!faults.upstream.held) this.connectUpstream();
  }

  connectUpstream(): void {
    if (this.upstream || this.clientClosed) return;
    const upstream = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => resetSocket(this.client));
    upstream.on('close', () => {
      this.upstreamClosed = true;
      this.down.endOfSource();
      this.up.stop();
      this.closedIfDone();
    });
    this.down.from(upstream);
    this.up.to(upstream);
  }

  private closedIfDone(): void {
    if (this.clientClosed && (this.upstreamClosed || !this.upstream)) this.onClosed(this);
  }

  reset(): void {
    this.up.stop();
    this.down.stop();
    resetSocket(this.client);
    resetSocket(this.upstream);
  }

  destroy(): void {
    this.up.stop();
    this.down.stop();
    this.client.destroy();
    this.upstream?.destroy();
  }
}

function resetSocket(socket: Socket | undefined): void {
  if (socket && !socket.destroyed) socket.resetAndDestroy();
}

const clean = (): DirectionFaults => ({ latencyMs: 0, jitterMs: 0, held: false, dropping: false });
const directionsOf = (directions: Directions): Direction[] => (directions === 'both' ? ['upstream', 'downstream'] : [directions]);

/**
 * A loopback TCP proxy in front of one server (a Kafka broker, Postgres) whose faults a test switches at runtime:
 * latency with jitter, a blackhole, one direction dropped, resets, refused connections (docs/faults.md). It knows
 * nothing of the protocol it carries. With Kafka, the broker's advertised listener must be this proxy's port, or
 * clients go round it after their first metadata request (docs/faults.md says how).
 */
export async function startFaultProxy(target: { host?: string; port: number }, options: { port?: number } = {}): Promise<FaultProxy> {
  const to = { host: target.host ?? '127.0.0.1', port: target.port };
  const faults: Record<Direction, DirectionFaults> = { upstream: clean(), downstream: clean() };
  const links = new Set<Link>();
  let resetNew = false;
  let accepted = 0;
  let server: Server | undefined;
  let port = options.port ?? 0;

  const onConnection = (client: Socket) => {
    accepted++;
    client.setNoDelay(true);
    if (resetNew) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    links.add(new Link(client, faults, to, (link) => links.delete(link)));
  };
  const listen = async () => {
    const listening = createServer({ allowHalfOpen: true }, onConnection);
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        listening.off('error', reject);
        resolve();
      });
    });
    port = (listening.address() as AddressInfo).port;
    server = listening;
  };
  const stopListening = async () => {
    // Its 'close' waits for every connection it accepted, which stay: only the listening socket goes, at once.
    server?.close();
    server = undefined;
    await new Promise((resolve) => setImmediate(resolve));
  };
  await listen();

  return {
    get port() {
      return port;
    },
    get address() {
      return `127.0.0.1:${port}`;
    },
    get openConnections() {
      return links.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    latency({ ms, jitterMs = 0, direction = 'both' }) {
      for (const d of directionsOf(direction)) Object.assign(faults[d], { latencyMs: ms, jitterMs });
    },
    blackhole(direction = 'both') {
      for (const d of directionsOf(direction)) faults[d].held = true;
      for (const link of links) for (const d of directionsOf(direction)) (d === 'upstream' ? link.up : link.down).hold();
    },
    drop(direction) {
      faults[direction].dropping = true;
    },
    reset({ newConnections = false } = {}) {
      for (const link of links) link.reset();
      links.clear();
      resetNew ||= newConnections;
    },
    refuse: stopListening,
    async heal() {
      Object.assign(faults.upstream, clean());
      Object.assign(faults.downstream, clean());
      resetNew = false;
      for (const link of links) {
        if (link.up.lostBytes || link.down.lostBytes) {
          link.reset();
          links.delete(link);
          continue;
        }
        link.connectUpstream();
        link.up.release();
        link.down.release();
      }
      if (!server) {
        await listen().catch((error: Error) => {
          throw new Error(`the fault proxy cannot listen on ${port} again: ${error.message}`);
        });
      }
    },
    async close() {
      await stopListening();
      for (const link of links) link.destroy();
      links.clear();
    },
  };
}
