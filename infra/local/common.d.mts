// Types for the TypeScript callers of common.mjs (packages/testkit).
export function freePort(): Promise<number>;
