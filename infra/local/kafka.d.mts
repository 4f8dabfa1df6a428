// Types for the TypeScript callers of kafka.mjs (tests that run a broker of their own, e.g. behind a fault proxy).
export interface RunningKafka {
  /** `127.0.0.1:<port>`: the advertised address (a fault proxy's with `advertisedPort`), for clients to bootstrap from. */
  brokers: string;
  /** The broker's own client listener. */
  port: number;
  controllerPort: number;
  pid: number;
  /** A controlled shutdown (SIGTERM, SIGKILL past its grace); returns once it has exited. */
  stop(): Promise<void>;
}

export function startKafka(options: {
  root: string;
  dataDir: string;
  port?: number;
  controllerPort?: number;
  /** The port advertised to clients instead of `port`: a fault proxy's, already listening and forwarding to `port`. */
  advertisedPort?: number;
  logFile?: string;
  heapMb?: number;
}): Promise<RunningKafka>;
