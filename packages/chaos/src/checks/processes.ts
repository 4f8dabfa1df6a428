import type { HistoryOp, ProcessSample } from '../history';
import type { AnomalyLog } from './anomalies';

export interface ProcessOptions {
  /** End RSS over the baseline × this is unbounded growth. */
  rssGrowthFactor: number;
  /** Any sample over this is too much, whatever the baseline. */
  rssMaxBytes: number;
  /** The baseline is the first sample this long after a process's first one (past its warm-up). */
  rssWarmupMs: number;
}

/** One process incarnation's figures, for the report (docs/reliability.md quotes them). */
export interface ProcessFigures {
  process: string;
  pid: number;
  samples: number;
  startRssBytes: number;
  endRssBytes: number;
  maxRssBytes: number;
  startOpenFiles: number | undefined;
  endOpenFiles: number | undefined;
}

/** No process exit the suite did not cause. */
export function checkExits(ops: readonly HistoryOp[], anomalies: AnomalyLog): void {
  for (const op of ops) {
    if (op.op !== 'process-exit' || op.expected) continue;
    anomalies.add(
      'unexpected-exit',
      { process: op.process, pid: op.pid },
      `${op.process}${op.pid === undefined ? '' : ` (pid ${op.pid})`} exited with ${op.signal ?? `code ${op.code}`}, and the suite did not cause it`,
    );
  }
}

/**
 * RSS stays bounded in each process incarnation (a restarted process starts a new baseline): under its own limit when
 * its samples carry one, else within the growth factor over its baseline; and under the absolute bound.
 */
export function checkMemory(ops: readonly HistoryOp[], options: ProcessOptions, anomalies: AnomalyLog): ProcessFigures[] {
  const incarnations = new Map<string, ProcessSample[]>();
  for (const op of ops) {
    if (op.op !== 'process-sample') continue;
    const key = `${op.process}#${op.pid}`;
    const samples = incarnations.get(key);
    if (samples) samples.push(op);
    else incarnations.set(key, [op]);
  }
  const figures: ProcessFigures[] = [];
  for (const samples of incarnations.values()) {
    const first = samples[0]!;
    const baseline = samples.find((sample) => sample.t >= first.t + options.rssWarmupMs) ?? samples[samples.length - 1]!;
    const end = samples[samples.length - 1]!;
    const max = samples.reduce((highest, sample) => (sample.rssBytes > highest.rssBytes ? sample : highest));
    const ids = { process: first.process, pid: first.pid };
    const limit = samples.find((sample) => sample.rssLimitBytes !== undefined)?.rssLimitBytes;
    if (limit !== undefined) {
      if (max.rssBytes > limit) {
        anomalies.add('rss-unbounded', ids, `${first.process} (pid ${first.pid}) reached ${mib(max.rssBytes)} RSS, over its own limit of ${mib(limit)}`);
      }
    } else if (end.rssBytes > baseline.rssBytes * options.rssGrowthFactor) {
      anomalies.add(
        'rss-unbounded',
        ids,
        `${first.process} (pid ${first.pid}) grew from ${mib(baseline.rssBytes)} to ${mib(end.rssBytes)} RSS, over ${options.rssGrowthFactor}×`,
      );
    }
    if (max.rssBytes > options.rssMaxBytes) {
      anomalies.add('rss-unbounded', ids, `${first.process} (pid ${first.pid}) reached ${mib(max.rssBytes)} RSS, over the bound of ${mib(options.rssMaxBytes)}`);
    }
    figures.push({
      process: first.process,
      pid: first.pid,
      samples: samples.length,
      startRssBytes: first.rssBytes,
      endRssBytes: end.rssBytes,
      maxRssBytes: max.rssBytes,
      startOpenFiles: first.openFiles,
      endOpenFiles: end.openFiles,
    });
  }
  return figures;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
