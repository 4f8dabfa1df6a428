// docs/benchmarks.md keeps one run per benchmark: a new run replaces its benchmark's section and leaves the rest of
// the page (other benchmarks, the hand-written summaries and history) as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchSection, commandLine, replaceBenchSection } from './bench-doc.mjs';

const page = `# Benchmarks

A summary, written by hand.

<!-- bench services/a/bench/a.bench.ts -->

## A

Run of yesterday: 10 messages/s.

<!-- /bench services/a/bench/a.bench.ts -->

History of A, written by hand.

<!-- bench services/b/bench/b.bench.ts -->

## B

Run of yesterday: 20 messages/s.

<!-- /bench services/b/bench/b.bench.ts -->

History of B.
`;

test('a run replaces its benchmark section and leaves the rest of the page as it was', () => {
  const updated = replaceBenchSection(page, 'services/a/bench/a.bench.ts', '## A\n\nRun of today: 12 messages/s.\n');
  assert.equal(updated, page.replace('Run of yesterday: 10 messages/s.', 'Run of today: 12 messages/s.'));
});

test('running the same benchmark again keeps one section for it, not one per run', () => {
  let updated = page;
  for (const rate of [11, 12, 13]) {
    updated = replaceBenchSection(updated, 'services/b/bench/b.bench.ts', `## B\n\nRun: ${rate} messages/s.`);
  }
  assert.equal(updated.split('<!-- bench services/b/bench/b.bench.ts -->').length, 2);
  assert.equal(updated.length, page.length - 'Run of yesterday: 20 messages/s.'.length + 'Run: 13 messages/s.'.length);
  assert.match(updated, /## B\n\nRun: 13 messages\/s\.\n\n<!-- \/bench services\/b\/bench\/b\.bench\.ts -->\n\nHistory of B\.\n$/);
});

test('a benchmark the page does not have yet is appended after everything else', () => {
  const updated = replaceBenchSection(page, 'services/c/bench/c.bench.ts', '## C\n\nRun: 30 messages/s.\n');
  assert.equal(updated, `${page}\n<!-- bench services/c/bench/c.bench.ts -->\n\n## C\n\nRun: 30 messages/s.\n\n<!-- /bench services/c/bench/c.bench.ts -->\n`);
});

test('a section whose end marker is gone is refused rather than overwriting the rest of the page', () => {
  const broken = page.replace('<!-- /bench services/a/bench/a.bench.ts -->', '');
  assert.throws(() => replaceBenchSection(broken, 'services/a/bench/a.bench.ts', '## A\n'), /has no/);
});

test('a single run is its heading, the run line and its figures', () => {
  const markdown = '## Fan-out\n\nThe setup.\n\n| a | b |\n|---|---|\n\n![chart](benchmarks/fanout.png)\n';
  assert.equal(benchSection('Run of today.', [{ label: 'Node v24', markdown }]), '## Fan-out\n\nRun of today.\n\nThe setup.\n\n| a | b |\n|---|---|\n\n![chart](benchmarks/fanout.png)\n');
});

test('a comparison has one heading, a subsection per runtime and round with its own tables, each explanation once, and no charts', () => {
  const markdown = (n, note) => `## Fan-out\n\nThe setup.\n\n| ${n} |\n\n![chart](benchmarks/fanout.png)\n\n${note}\n`;
  const section = benchSection('Run of today.', [
    { label: 'Node v20, round 1 of 1', markdown: markdown(1, 'More.') },
    { label: 'Node v24, round 1 of 1', markdown: markdown(1, 'Other.') },
  ]);
  assert.equal(section, '## Fan-out\n\nRun of today.\n\n### Node v20, round 1 of 1\n\nThe setup.\n\n| 1 |\n\nMore.\n\n### Node v24, round 1 of 1\n\n| 1 |\n\nOther.\n');
});

test('the command carries its BENCH_* settings, quoted where the shell needs it', () => {
  const env = { PATH: '/bin', BENCH_SYSTEMS: 'ours', BENCH_NODE_OPTIONS: '--a --b' };
  assert.equal(commandLine(['idle', '--rounds=2'], env), "BENCH_NODE_OPTIONS='--a --b' BENCH_SYSTEMS=ours npm run bench -- idle --rounds=2");
  assert.equal(commandLine([], { PATH: '/bin' }), 'npm run bench');
});
