import type { FastifyInstance } from 'fastify';

/**
 * The web app's policy: its own scripts, styles and connections only (the streams are same-origin), nothing framed
 * and no framing, no plugins, no `<base>`. The built app has no inline script or style (web-ui.test.ts fails on
 * any violation).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: ReadonlyArray<[string, string]> = [
  ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
  ['X-Content-Type-Options', 'nosniff'],
  // The URLs of the app carry nothing for another site to learn (links in messages open with no referrer).
  ['Referrer-Policy', 'no-referrer'],
  // frame-ancestors for the browsers that predate it.
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
];

/** Two years, subdomains included: what the HSTS preload list asks for. */
const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * The security headers on every response: the API's, the web app's, and the streams' (set on the raw response, so
 * that SSE and long polls, which write their own heads, carry them too). HSTS only over TLS: the request came as
 * https, to this server or through a trusted proxy's `X-Forwarded-Proto` (`TRUSTED_PROXIES`).
 */
export function securityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    for (const [name, value] of HEADERS) reply.raw.setHeader(name, value);
    if (request.protocol === 'https') reply.raw.setHeader('Strict-Transport-Security', HSTS);
    done();
  });
}
