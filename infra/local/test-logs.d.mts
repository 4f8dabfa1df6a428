// Types for the TypeScript callers of test-logs.mjs (packages/testkit).
export function testLogFolder(logDir: string, testFile: string): string;
