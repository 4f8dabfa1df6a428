// How `npm run bench` writes docs/benchmarks.md: the page holds the latest run of each benchmark, between two
// markers named by its file, and a new run replaces what is between them. Earlier runs are git's to keep, so the page
// does not grow with every run; what is outside the markers (the summaries, each benchmark's history) is written by hand.

export const HEADER = '# Benchmarks\n\nThe latest run of each benchmark (`npm run bench`); earlier runs are in git.\n';

const start = (bench) => `<!-- bench ${bench} -->`;
const end = (bench) => `<!-- /bench ${bench} -->`;

/** `document` with the section of `bench` (its file) replaced by `section`, or with `section` appended if it has none. */
export function replaceBenchSection(document, bench, section) {
  // Blank lines around the markers, so that no markdown block (a table above all) runs into them.
  const block = `${start(bench)}\n\n${section.trim()}\n\n${end(bench)}`;
  const from = document.indexOf(start(bench));
  if (from === -1) return `${document.trimEnd()}\n\n${block}\n`;
  const to = document.indexOf(end(bench), from);
  if (to === -1) throw new Error(`docs/benchmarks.md: "${start(bench)}" has no "${end(bench)}" after it`);
  return document.slice(0, from) + block + document.slice(to + end(bench).length);
}

/**
 * A benchmark's section: its heading, `runLine` (when, the command, the machine), then its figures. `results` are the
 * markdown the benchmark printed, one per runtime and round; a comparison gets a subsection for each, which explains
 * only what the subsections before it did not (their prose is the same, their tables are not), and no charts, which
 * only single runs draw (docs/benchmarks/*.png would show another run's figures).
 */
export function benchSection(runLine, results) {
  const heading = results[0].markdown.match(/^## .*$/m)?.[0] ?? '## (a benchmark without a heading)';
  const figures = (markdown) => markdown.replace(/^## .*\n/m, '').trim();
  if (results.length === 1) return `${heading}\n\n${runLine}\n\n${figures(results[0].markdown)}\n`;
  const said = new Set();
  const subsection = ({ label, markdown }) => {
    const paragraphs = figures(markdown)
      .split(/\n{2,}/)
      .filter((paragraph) => !/^!\[[^\]]*\]\(benchmarks\/[^)]*\)$/.test(paragraph));
    const told = paragraphs.filter((paragraph) => paragraph.startsWith('|') || !said.has(paragraph));
    for (const paragraph of paragraphs) said.add(paragraph);
    return [`### ${label}`, ...told];
  };
  return `${[heading, runLine, ...results.flatMap(subsection)].join('\n\n')}\n`;
}

/** The command as it was typed, its BENCH_* settings included: a run with other settings measures something else. */
export function commandLine(args, env) {
  const quote = (word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);
  const settings = Object.entries(env)
    .filter(([name]) => name.startsWith('BENCH_'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${quote(value)}`);
  return [...settings, 'npm run bench', ...(args.length ? ['--', ...args.map(quote)] : [])].join(' ');
}
