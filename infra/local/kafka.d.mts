// Types for the TypeScript callers of kafka.mjs (tests that run brokers of their own: a cluster, or one behind a
// fault proxy).
export interface KafkaNodePorts {
  /** The CLIENT listener, where services connect. */
  client: number;
  /** The INTERNAL listener: replication, and a test's observer, past any proxy. */
  internal: number;
  /** The KRaft controller's. */
  controller: number;
  /** The port advertised for CLIENT instead of `client`: a fault proxy's, already listening and forwarding to it. */
  advertised?: number;
  /**
   * Client listeners of their own (a name of capitals, digits and `_`): `port` is the listener's, `advertised` what
   * metadata answers on it (a fault proxy's in front of `port`). A service bootstraps from `laneBrokers(name)`.
   */
  lanes?: Array<{ name: string; port: number; advertised: number }>;
}

export interface KafkaNode {
  /** node.id, from 1. */
  id: number;
  ports: KafkaNodePorts;
  logFile: string;
  pid(): number | undefined;
  isRunning(): boolean;
  /** Starts it again on the same ports and data after stop() or kill(); the cluster's waitReady() waits for it. */
  start(): Promise<void>;
  /** A clean shutdown (SIGTERM, SIGKILL past 20 s), resuming a paused node first. */
  stop(): Promise<void>;
  /** SIGKILL; returns once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

export interface KafkaCluster {
  /** What services bootstrap from: every node's CLIENT listener at its advertised port, comma-separated. */
  brokers: string;
  /** Every node's INTERNAL listener, comma-separated: for an observer that must not go through a fault proxy. */
  directBrokers: string;
  /** Every node's listener of lane `name`, at its advertised port, comma-separated. */
  laneBrokers(name: string): string;
  nodes: KafkaNode[];
  waitReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RunningKafka {
  /** `127.0.0.1:<port>`: the advertised address (a fault proxy's with `advertisedPort`), for clients to bootstrap from. */
  brokers: string;
  /** The broker's own client listener. */
  port: number;
  controllerPort: number;
  pid: number;
  node: KafkaNode;
  /** SIGTERM (a controlled shutdown), SIGKILL after 20 s; returns once it has exited. */
  stop(): Promise<void>;
}

export const KAFKA_VERSION: string;
export function ensureKafkaInstalled(options: { root: string }): Promise<{ libsDir: string }>;
export function startKafka(options: {
  root: string;
  dataDir: string;
  port?: number;
  controllerPort?: number;
  advertisedPort?: number;
  logFile?: string;
  heapMb?: number;
}): Promise<RunningKafka>;
export function startKafkaCluster(options: {
  root: string;
  dataDir: string;
  size?: number;
  ports?: Array<Partial<KafkaNodePorts>>;
  logFiles?: string[];
  heapMb?: number;
}): Promise<KafkaCluster>;
export function stopLeftoverKafka(dataDir: string): Promise<void>;
export function createTopics(options: {
  root?: string;
  brokers: string;
  replicationFactor?: number;
  topics: Array<{ topic: string; numPartitions: number; configs?: Record<string, string | number> }>;
}): Promise<string[]>;
