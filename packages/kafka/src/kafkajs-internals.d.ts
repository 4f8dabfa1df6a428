// The parts of kafkajs' internals that kafkajs-fixes.ts replaces or uses (kafkajs 2.2.4).
declare module 'kafkajs/src/network/requestQueue/index.js' {
  export default class RequestQueue {
    constructor(options: {
      maxInFlightRequests: number | null;
      requestTimeout: number;
      enforceRequestTimeout: boolean;
      clientId: string;
      broker: string;
      logger: { debug(...args: unknown[]): void; info(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void };
      isConnected?: () => boolean;
    });
    pending: unknown[];
    inflight: Map<number, unknown>;
    throttledUntil: number;
    throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
    sendSocketRequest(request: unknown): void;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
    destroy(): void;
  }
}

declare module 'kafkajs/src/errors.js' {
  const errors: { KafkaJSMetadataNotLoaded: new (message: string) => Error };
  export default errors;
}

declare module 'kafkajs/src/protocol/error.js' {
  const errors: { staleMetadata: (error: unknown) => boolean };
  export default errors;
}

declare module 'kafkajs/src/producer/responseSerializer.js' {
  const responseSerializer: (response: unknown) => unknown[];
  export default responseSerializer;
}
