// Types for the TypeScript callers of nginx.mjs (packages/testkit).
export interface RunningNginx {
  url: string;
  port: number;
  configFile: string;
  stop(): Promise<void>;
}

export function ensureNginxInstalled(): void;

export function startNginx(options: {
  dir: string;
  host?: string;
  port: number;
  upstreams: string[];
  streamTimeoutSeconds?: number;
}): Promise<RunningNginx>;
