import type { ErrorBody, ErrorCode } from '@chat/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  invalid_cursor: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

function codeForStatus(status: number): ErrorCode {
  const match = (Object.keys(STATUS) as ErrorCode[]).find((code) => STATUS[code] === status);
  return match ?? 'invalid_input';
}

/** An error meant for the client, on any transport: HTTP maps it to the error JSON, WebSocket to an error frame or close code. */
export class ClientError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For rate limits: how long the client should wait (HTTP sends it as Retry-After in whole seconds). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ClientError';
    this.status = STATUS[code];
  }
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** The one place HTTP errors become the contract's error JSON. Internal failures are logged once, here. */
export function registerErrorMapper(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ClientError, request, reply) => {
    if (error instanceof ClientError) {
      if (error.retryAfterMs !== undefined) reply.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
      return reply.status(error.status).send(errorBody(error.code, error.message));
    }
    if (error.validation) return reply.status(400).send(errorBody('invalid_input', error.message));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorBody('too_large', 'request body is too large'));
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send(errorBody(codeForStatus(status), error.message));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send(errorBody('internal', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
}
