// README's environment tables say what the config definitions say: a default, bound or description changed in
// the code and not in README (or the other way round) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configTables, README, readmeTables } from './config-table.mjs';

test("README's environment tables are the ones the config definitions print", () => {
  const inReadme = readmeTables(readFileSync(README, 'utf8'));
  assert.ok(inReadme !== undefined, "README.md has lost its config-table markers (see scripts/config-table.mjs)");
  const printed = configTables();
  const readmeLines = inReadme.split('\n');
  const printedLines = printed.split('\n');
  const only = (lines, others) => lines.filter((line) => !others.includes(line));
  assert.ok(
    inReadme === printed,
    [
      "README.md's environment tables differ from the config definitions; run `npm run config-table -- --write`.",
      ...only(readmeLines, printedLines).map((line) => `  README says:      ${line}`),
      ...only(printedLines, readmeLines).map((line) => `  definitions say: ${line}`),
    ].join('\n'),
  );
});
