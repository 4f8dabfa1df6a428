/** Where a burst's bytes go (net.Socket, http.ServerResponse). */
interface Sink {
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
}

/** Whether the stream still takes frames: not once it is closing or ended. */
interface Gate {
  readonly open: boolean;
}

/**
 * Past this much, a burst is let go at once, which bounds what a burst holds. Not less: the kernel's cost of a
 * write on loopback is mostly per write, not per byte, and at 16 KiB the gateway wrote 43,000 times a second in the
 * fan-out benchmark and spent half its CPU doing it; at 64 KiB, 13,000 times, for a third less CPU per delivery.
 */
const FLUSH_BYTES = 64 * 1024;

/**
 * Frames written in one go (a feed batch, a catch-up page) leave in one write
 * instead of one each: a write per frame was half of the gateway's CPU in the
 * fan-out benchmark. The burst's frames are joined into one buffer and written
 * once when the current task's synchronous work is done (a microtask), or every
 * FLUSH_BYTES. Joining them ourselves rather than corking the stream spares
 * Node's stream machinery its per-write work (about a fifth of the gateway's CPU
 * per delivery at 400 messages/s; docs/benchmarks.md).
 *
 * Whoever closes or ends the stream flushes first, so that nothing written
 * before comes after the close. What is still held once the gate is shut is
 * dropped: the client resumes from the cursor it last received.
 */
/**
 * How much unsent backlog a stream may hold before it is cut off (it resumes from its cursor elsewhere or later),
 * and what counts the cuts: one per transport, shared by all its streams.
 */
export interface BacklogLimit {
  readonly maxBytes: number;
  cut(): void;
}

export class WriteBurst {
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    private readonly stream: Sink,
    private readonly gate: Gate,
  ) {}

  /** What the client has not read yet; a burst still held is on its way, not a backlog. */
  get backlog(): number {
    return this.stream.writableLength;
  }

  write(chunk: Buffer): void {
    if (this.held.length === 0) holdUntilTaskEnds(this);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= FLUSH_BYTES) this.flush();
  }

  /** Writes what is held, now. */
  flush(): void {
    const { held, heldBytes } = this;
    if (held.length === 0) return;
    this.held = [];
    this.heldBytes = 0;
    if (!this.gate.open) return;
    this.stream.write(held.length === 1 ? held[0]! : join(held, heldBytes));
  }
}

/**
 * The last burst joined, kept for the next: streams that cover the same room are handed the same frames
 * (OutgoingEvent encodes an event once for all of them), so in a room of 1,000 members the 999 bursts after
 * the first hold exactly the frames the first one did, and share its buffer instead of copying them again.
 * Frames are never changed once encoded, so a joined buffer stays right for as long as it is written.
 */
let lastHeld: readonly Buffer[] = [];
let lastJoined = Buffer.alloc(0);

function join(held: Buffer[], bytes: number): Buffer {
  if (!sameFrames(held, lastHeld)) {
    lastHeld = held;
    lastJoined = Buffer.concat(held, bytes);
  }
  return lastJoined;
}

/** The very same frame objects, in order (a loop: this runs for every stream at every burst). */
function sameFrames(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Bursts that began in the current task, flushed by one microtask for all of them: a feed batch
 * starts a burst on every local stream of its rooms, and a microtask (and its closure) each would
 * be work per stream and batch. A burst let go early at FLUSH_BYTES may be listed twice; its
 * second flush finds nothing held.
 */
let begun: WriteBurst[] = [];

function holdUntilTaskEnds(burst: WriteBurst): void {
  if (begun.length === 0) queueMicrotask(flushBegun);
  begun.push(burst);
}

function flushBegun(): void {
  const bursts = begun;
  begun = [];
  for (const burst of bursts) burst.flush();
}
