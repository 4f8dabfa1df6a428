import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { DISCONNECT, StreamQuery, type Disconnect, type UserRef } from '@chat/protocol';
import type { GatewayContext } from '../context';
import type { LiveConnection } from '../session/connections';
import type { OutgoingEvent } from '../session/outgoing-event';
import { Session, type StreamOutput } from '../session/session';
import { expiryTimer, openStreamRequest, takeOverResponse } from './stream-request';

const DEFAULT_TIMEOUT_SECONDS = 25;
/** Events per answer; the rest waits for the next poll, which resumes from the answer's cursor. */
const MAX_EVENTS_PER_POLL = 500;

/**
 * One waiting poll: collects the events of its answer and answers once. A
 * class, not closures, because thousands of these wait at a time: each
 * per-poll closure costs its own context, and a named one (tsx keeps names) a
 * few hundred bytes more.
 */
export class PendingPoll implements StreamOutput, LiveConnection {
  readonly transport = 'poll';
  private readonly events: string[] = [];
  private cursor = '';
  private answered = false;
  session: Session | undefined;
  timer: NodeJS.Timeout | undefined;
  expiry: NodeJS.Timeout | undefined;
  release: (() => void) | undefined;

  constructor(
    private readonly response: ServerResponse,
    readonly user: UserRef,
    readonly ip: string,
  ) {}

  push(event: OutgoingEvent): void {
    if (this.answered || this.events.length >= MAX_EVENTS_PER_POLL) return;
    this.cursor = event.cursor;
    if (event.type === 'ready') return;
    this.events.push(event.jsonWithCursor);
    // Events that arrive together go out together.
    if (this.events.length === 1) setImmediate(() => this.answer());
  }

  /** Ends the poll as the catalog says: an error status and body, or an early answer with what it holds. */
  close(disconnect: Disconnect): void {
    if (disconnect.pollStatus === 200) {
      this.answer();
      return;
    }
    this.finish(disconnect.pollStatus, JSON.stringify({ error: { code: disconnect.errorCode, message: disconnect.reason } }));
  }

  answer(): void {
    this.finish(200, `{"events":[${this.events.join(',')}],"cursor":"${this.cursor}"}`);
  }

  /** Answers (status 499: the client went away, nobody to answer) and lets go of the session. */
  finish(status: number, body: string): void {
    if (this.answered) return;
    this.answered = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiry);
    this.session?.close();
    this.release?.();
    const response = this.response;
    if (response.destroyed || response.writableEnded) return;
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }
}

/**
 * Long polling: every request is a short-lived session resumed from the
 * cursor, so any replica can answer any poll. It answers at once when the gap
 * since the cursor holds events, otherwise at the first live event or at the
 * timeout.
 */
export async function longPollTransport(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  const sessionDeps = { ...ctx.sessionDeps, pageSize: MAX_EVENTS_PER_POLL };

  app.get<{ Querystring: StreamQuery }>('/poll', { schema: { querystring: StreamQuery } }, async (request, reply) => {
    const { principal, plan } = await openStreamRequest(ctx, request, request.query);
    const timeoutMs = (request.query.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    const poll = new PendingPoll(reply.raw, principal.user, request.ip);
    // Refused (429) before anything starts, while Fastify still answers.
    poll.release = ctx.connections.admit(poll, principal.issuedAt);
    // The answer is written by the poll itself, so Fastify's request ends here rather than with the wait.
    const response = takeOverResponse(reply);
    poll.session = new Session(principal, sessionDeps, poll);
    poll.expiry = expiryTimer(principal, () => poll.close(DISCONNECT.expired));
    poll.timer = setTimeout(() => poll.answer(), timeoutMs);
    response.once('close', () => poll.finish(499, ''));
    poll.session.begin(plan);
  });
}
