// Types for the TypeScript callers of node.mjs (packages/testkit, the benchmarks).
export const MIN_NODE_MAJOR: number;
export const SERVICE_NODE_OPTIONS: string;
export function serviceNodeOptions(extra?: string): string;
export function pinnedNodeVersion(): string;
export function ensureNode(options?: { log?: (line: string) => void }): string;
