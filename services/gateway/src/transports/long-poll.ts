import type { FastifyInstance } from 'fastify';
import { StreamQuery } from '@chat/protocol';
import type { GatewayContext } from '../context';
import { Session } from '../session/session';
import { expiryTimer, openStreamRequest } from './stream-request';

const DEFAULT_TIMEOUT_SECONDS = 25;
/** Events per answer; the rest waits for the next poll, which resumes from the answer's cursor. */
const MAX_EVENTS_PER_POLL = 500;

/**
 * Long polling: every request is a short-lived session resumed from the
 * cursor, so any replica can answer any poll. It answers at once when the gap
 * since the cursor holds events, otherwise at the first live event or at the
 * timeout.
 */
export async function longPollTransport(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  app.get<{ Querystring: StreamQuery }>('/poll', { schema: { querystring: StreamQuery } }, async (request, reply) => {
    const { principal, plan } = await openStreamRequest(ctx, request, request.query);
    const timeoutMs = (request.query.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;

    return new Promise<void>((resolve) => {
      const events: string[] = [];
      let cursor = '';
      let answered = false;
      let release = () => {};

      const finish = (status: number, body: string) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        clearTimeout(expiry);
        session.close();
        release();
        if (!reply.raw.destroyed && !reply.raw.writableEnded) reply.status(status).type('application/json').send(body);
        resolve();
      };
      const answer = () => finish(200, `{"events":[${events.join(',')}],"cursor":"${cursor}"}`);
      // Events that arrive together go out together.
      const answerSoon = () => setImmediate(answer);

      const session = new Session(
        principal,
        { ...ctx.sessionDeps, pageSize: MAX_EVENTS_PER_POLL },
        {
          push: (event) => {
            if (answered || events.length >= MAX_EVENTS_PER_POLL) return;
            cursor = event.cursor;
            if (event.type === 'ready') return;
            events.push(event.jsonWithCursor);
            if (events.length === 1) answerSoon();
          },
          fail: (reason) => finish(503, JSON.stringify({ error: { code: 'unavailable', message: reason } })),
        },
      );
      const expiry = expiryTimer(principal, () =>
        finish(401, JSON.stringify({ error: { code: 'unauthenticated', message: 'token expired' } })),
      );
      try {
        release = ctx.connections.admit({ transport: 'poll', user: principal.user, ip: request.ip, goAway: answer });
      } catch (error) {
        clearTimeout(expiry);
        throw error;
      }
      // The client went away mid-wait: stop listening, answer nobody.
      reply.raw.on('close', () => finish(499, ''));
      const timer = setTimeout(answer, timeoutMs);
      void session.start(plan);
    });
  });
}
