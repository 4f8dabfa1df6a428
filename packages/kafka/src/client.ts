import './kafkajs-fixes';
import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConnection } from './connection';

export interface KafkaSettings extends KafkaConnection {
  clientId: string;
}

/** kafkajs logs through the service's pino logger, at warn and above. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR || level === logLevel.NOTHING) logger.error({ kafka: extra }, message);
      else if (level === logLevel.WARN) logger.warn({ kafka: extra }, message);
      else logger.debug({ kafka: extra }, message);
    };
}

export function createKafka(settings: KafkaSettings, logger: Logger): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    sasl: settings.sasl,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafka' })),
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
    connectionTimeout: 3_000,
  });
}
