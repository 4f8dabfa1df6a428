/**
 * How a benchmark hands its results to scripts/bench.mjs: one base64 line of
 * markdown for docs/benchmarks.md, and SVG charts that it turns into PNGs
 * under docs/benchmarks/.
 */

export function emitMarkdown(markdown: string): void {
  console.log(`BENCH_MARKDOWN ${Buffer.from(markdown).toString('base64')}`);
}

/** `name` becomes docs/benchmarks/<name>.png; reference it from the markdown as `benchmarks/<name>.png`. */
export function emitChart(name: string, svg: string): void {
  console.log(`BENCH_CHART ${Buffer.from(JSON.stringify({ name, svg })).toString('base64')}`);
}

export interface BarChart {
  title: string;
  /** The value axis, e.g. "KiB per connection". */
  unit: string;
  /** One cluster of bars per group (e.g. a connection count or a rate). */
  groups: string[];
  series: Array<{ name: string; values: number[] }>;
  /** A dashed line across the chart (a target), if any. */
  target?: { value: number; label: string };
}

const COLOURS = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#c53030', '#718096'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value || 1));
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value)!;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 10_000) return `${Math.round(value / 1000).toLocaleString('en')}k`;
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

export function barChartSvg(chart: BarChart): string {
  const width = 760;
  const height = 420;
  const left = 70;
  const right = 20;
  const top = 50;
  const bottom = 80;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const finite = chart.series.flatMap((s) => s.values).filter(Number.isFinite);
  const max = niceMax(Math.max(...finite, chart.target?.value ?? 0) * 1.1);
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;
  const groupWidth = plotWidth / chart.groups.length;
  const barWidth = (groupWidth * 0.8) / chart.series.length;
  const parts: string[] = [
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">${escape(chart.title)}</text>`,
    `<text x="18" y="${top + plotHeight / 2}" font-size="13" transform="rotate(-90 18 ${top + plotHeight / 2})" text-anchor="middle">${escape(chart.unit)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const value = (max / 5) * i;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(value)}" y2="${y(value)}" stroke="#e2e8f0"/>`);
    parts.push(`<text x="${left - 6}" y="${y(value) + 4}" font-size="12" text-anchor="end">${formatValue(value)}</text>`);
  }
  chart.groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + groupWidth * 0.1;
    chart.series.forEach((series, s) => {
      const value = series.values[g]!;
      if (!Number.isFinite(value)) return;
      const x = x0 + s * barWidth;
      parts.push(`<rect x="${x}" y="${y(value)}" width="${barWidth - 2}" height="${top + plotHeight - y(value)}" fill="${COLOURS[s % COLOURS.length]}"/>`);
      parts.push(`<text x="${x + barWidth / 2 - 1}" y="${y(value) - 4}" font-size="11" text-anchor="middle">${formatValue(value)}</text>`);
    });
    parts.push(`<text x="${left + g * groupWidth + groupWidth / 2}" y="${top + plotHeight + 18}" font-size="13" text-anchor="middle">${escape(group)}</text>`);
  });
  if (chart.target) {
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(chart.target.value)}" y2="${y(chart.target.value)}" stroke="#c53030" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${width - right - 4}" y="${y(chart.target.value) - 5}" font-size="12" fill="#c53030" text-anchor="end" paint-order="stroke" stroke="white" stroke-width="4">${escape(chart.target.label)}</text>`);
  }
  chart.series.forEach((series, s) => {
    const x = left + (s % 4) * 170;
    const legendY = height - 48 + Math.floor(s / 4) * 20;
    parts.push(`<rect x="${x}" y="${legendY}" width="14" height="14" fill="${COLOURS[s % COLOURS.length]}"/>`);
    parts.push(`<text x="${x + 20}" y="${legendY + 12}" font-size="13">${escape(series.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">${parts.join('')}</svg>`;
}
