/** WebSocket close codes the gateway uses (PROTOCOL.md). */
export const CLOSE = {
  goingAway: 1001,
  internalError: 1011,
  serviceRestart: 1012,
  unauthenticated: 4001,
  forbidden: 4003,
  /** Extension: the client fell too far behind; resume with the cursor. */
  tooSlow: 4008,
  rateLimited: 4029,
} as const;
