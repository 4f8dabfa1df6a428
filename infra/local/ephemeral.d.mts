// Types for the TypeScript callers of ephemeral.mjs (fault tests that run a Kafka cluster and Postgres of their own).
import type { KafkaCluster, KafkaNodePorts } from './kafka.mjs';
import type { RunningPostgres } from './postgres.mjs';

export interface EphemeralInfra {
  kafkaBrokers: string;
  databaseUrl: string;
  kafkaPid: number | undefined;
  postgresPid: number;
  kafka: KafkaCluster;
  postgres: RunningPostgres;
  dataDirs: string[];
  logFiles: Record<string, string>;
  logDir: string;
  stop(): Promise<void>;
}

export const canKeepKafkaInMemory: () => boolean;
export function clearKilledRuns(options: { root: string; kind: string }): Promise<void>;
export function startEphemeralInfra(options: {
  root: string;
  kind: string;
  kafkaInMemory?: boolean;
  brokers?: number;
  kafkaHeapMb?: number;
  kafkaPorts?: Array<Partial<KafkaNodePorts>>;
}): Promise<EphemeralInfra>;
