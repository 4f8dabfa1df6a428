import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { bool, ConfigError, list, oneOf, str } from '@chat/runtime';

/**
 * How every service reaches Kafka: brokers, and TLS / SASL for a managed or
 * secured cluster. Services spread this into their config spec.
 */
export const kafkaConnectionConfigSpec = {
  kafkaBrokers: list('KAFKA_BROKERS', ['127.0.0.1:9092'], { doc: 'Brokers to bootstrap from, as `host:port`.' }),
  kafkaSsl: bool('KAFKA_SSL', false, { doc: 'TLS to the brokers.' }),
  kafkaSslCaFile: str('KAFKA_SSL_CA_FILE', '', { doc: "A PEM bundle of the brokers' CA (needs `KAFKA_SSL`); empty trusts the system CAs." }),
  kafkaSaslMechanism: oneOf('KAFKA_SASL_MECHANISM', ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const, 'none', {
    doc: 'SASL authentication to the brokers; any but `none` needs the username and password.',
  }),
  kafkaSaslUsername: str('KAFKA_SASL_USERNAME', '', { doc: 'The SASL user.' }),
  kafkaSaslPassword: str('KAFKA_SASL_PASSWORD', '', { doc: "The SASL user's password." }),
};

export interface KafkaConnectionConfig {
  kafkaBrokers: string[];
  kafkaSsl: boolean;
  kafkaSslCaFile: string;
  kafkaSaslMechanism: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
  kafkaSaslUsername: string;
  kafkaSaslPassword: string;
}

export interface KafkaConnection {
  brokers: string[];
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
}

/** kafkajs connection options from the config; a bad combination is a ConfigError at start-up. */
export function kafkaConnection(config: KafkaConnectionConfig, readFile = (path: string) => readFileSync(path, 'utf8')): KafkaConnection {
  const connection: KafkaConnection = { brokers: config.kafkaBrokers };
  if (config.kafkaSslCaFile && !config.kafkaSsl) throw new ConfigError(['KAFKA_SSL_CA_FILE needs KAFKA_SSL=true']);
  if (config.kafkaSsl) connection.ssl = config.kafkaSslCaFile ? { ca: [readFile(config.kafkaSslCaFile)] } : true;
  if (config.kafkaSaslMechanism !== 'none') {
    if (!config.kafkaSaslUsername || !config.kafkaSaslPassword) {
      throw new ConfigError([`KAFKA_SASL_MECHANISM=${config.kafkaSaslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`]);
    }
    connection.sasl = { mechanism: config.kafkaSaslMechanism, username: config.kafkaSaslUsername, password: config.kafkaSaslPassword };
  }
  return connection;
}
