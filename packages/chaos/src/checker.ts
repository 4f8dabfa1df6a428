/**
 * The judge of the fault suite: a pure function of a run's history and the state Postgres holds at its end. Each
 * check lives in checks/, named for the promise it judges; README.md lists the anomaly classes and what each means.
 * Everything is a sort plus passes over maps: O(n log n) in the number of operations.
 */
import type { HistoryOp, StoredState } from './history';
import { AnomalyLog, type Anomaly, type AnomalyClass } from './checks/anomalies';
import { checkDeliveries } from './checks/deliveries';
import { checkDeliveredToConnected, checkLag } from './checks/end-state';
import { FaultTimeline } from './checks/faults';
import { checkExits, checkMemory, type ProcessFigures } from './checks/processes';
import { AckedByRoom, checkSenderOrder, checkSendsStored, collectSends } from './checks/sends';
import { checkLogsDense, StoredLog } from './checks/stored-log';

export { ANOMALY_CLASSES, type Anomaly, type AnomalyClass, type AnomalyIds } from './checks/anomalies';
export type { ProcessFigures } from './checks/processes';

export interface CheckOptions {
  /** After a heal (or an ack, when no fault intervened) every connected member has the acked message within this. */
  healBoundMs: number;
  /** A join or leave reaches every stream of the user within this. */
  membershipBoundMs: number;
  /** Consumer lag is back to `maxLagAfterHeal` within this of every heal. */
  lagBoundMs: number;
  maxLagAfterHeal: number;
  rssGrowthFactor: number;
  rssMaxBytes: number;
  rssWarmupMs: number;
  /** Anomalies kept per class (all are counted). */
  maxAnomaliesPerClass: number;
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  healBoundMs: 10_000,
  membershipBoundMs: 5_000,
  lagBoundMs: 30_000,
  maxLagAfterHeal: 0,
  rssGrowthFactor: 2,
  rssMaxBytes: Infinity,
  rssWarmupMs: 0,
  maxAnomaliesPerClass: 100,
};

export interface CheckCounts {
  /** Logical messages: the attempts of one (room, user, clientMsgId). */
  sends: number;
  attempts: number;
  acked: number;
  refused: number;
  indeterminate: number;
  storedRows: number;
  /** Log entries received (every raw frame of one, repeats included). */
  deliveries: number;
  receivers: number;
  connections: number;
  faultsInjected: number;
  faultsHealed: number;
}

export interface CheckReport {
  counts: CheckCounts;
  /** Every anomaly counted, per class (classes with none are left out). */
  anomalyCounts: Partial<Record<AnomalyClass, number>>;
  /** The anomalies, at most `maxAnomaliesPerClass` of each class. */
  anomalies: Anomaly[];
  /** When the end-state checks were judged; undefined when the history has no `settled` operation (they were skipped). */
  settledAt: number | undefined;
  /** The longest time from a heal to the delivery of a message acked before it, to a receiver connected at the end. */
  longestHealMs: number | undefined;
  processes: ProcessFigures[];
}

export function check(history: readonly HistoryOp[], storedState: StoredState, options: Partial<CheckOptions> = {}): CheckReport {
  const settings = { ...DEFAULT_CHECK_OPTIONS, ...options };
  // Recorders append in time order; histories merged from several files may not be. The sort is stable.
  const ops = [...history].sort((a, b) => a.t - b.t);
  const anomalies = new AnomalyLog(settings.maxAnomaliesPerClass);
  const stored = new StoredLog(storedState);
  const faults = new FaultTimeline(ops);

  checkLogsDense(stored, anomalies);
  const sends = collectSends(ops, stored);
  checkSendsStored(sends, stored, anomalies);
  checkSenderOrder(sends, anomalies);
  const acked = new AckedByRoom(sends);
  const delivered = checkDeliveries(ops, stored, sends, acked, settings, anomalies);

  const settledAt = ops.find((op) => op.op === 'settled')?.t;
  const longestHealMs =
    settledAt === undefined ? undefined : checkDeliveredToConnected(delivered.receivers, stored, sends, acked, faults, settledAt, settings, anomalies);
  checkLag(ops, faults, settledAt, settings, anomalies);
  checkExits(ops, anomalies);
  const processes = checkMemory(ops, settings, anomalies);

  let attempts = 0;
  const status = { acked: 0, refused: 0, indeterminate: 0 };
  for (const send of sends.values()) {
    attempts += send.attempts;
    status[send.status]++;
  }
  return {
    counts: {
      sends: sends.size,
      attempts,
      ...status,
      storedRows: storedState.rows.length,
      deliveries: delivered.deliveries,
      receivers: delivered.receivers.size,
      connections: delivered.connections,
      faultsInjected: faults.injected,
      faultsHealed: faults.healed,
    },
    anomalyCounts: anomalies.counts,
    anomalies: anomalies.kept,
    settledAt,
    longestHealMs,
    processes,
  };
}

/** One line per class and the first anomalies: what a failed assertion prints. */
export function formatReport(report: CheckReport, maxAnomalies = 20): string {
  const counts = Object.entries(report.counts).map(([name, value]) => `${name} ${value}`).join(', ');
  const classes = Object.entries(report.anomalyCounts).map(([name, count]) => `${name}: ${count}`);
  const lines = [counts, classes.length > 0 ? `anomalies — ${classes.join(', ')}` : 'no anomalies'];
  for (const anomaly of report.anomalies.slice(0, maxAnomalies)) lines.push(`  [${anomaly.class}] ${anomaly.explanation}`);
  if (report.anomalies.length > maxAnomalies) lines.push(`  … and ${report.anomalies.length - maxAnomalies} more`);
  return lines.join('\n');
}
