// Types for the TypeScript callers of run.mjs (the k6 smoke tests).
export const SCENARIOS: string[];
export function bundleScenario(scenario: string): Promise<string>;
export function runScenario(
  scenario: string,
  options?: { env?: Record<string, string>; args?: string[]; onOutput?: (chunk: string) => void },
): Promise<number>;
