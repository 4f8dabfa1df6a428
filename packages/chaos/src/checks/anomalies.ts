/** Every way a run can break the platform's promises; README.md says what each one means. */
export const ANOMALY_CLASSES = [
  'acked-lost',
  'stored-twice',
  'text-mismatch',
  'refused-stored',
  'log-gap',
  'log-duplicate-seq',
  'sender-reorder',
  'delivered-twice',
  'delivered-out-of-order',
  'delivery-mismatch',
  'phantom-delivery',
  'delivery-gap',
  'delivered-after-leave',
  'not-delivered',
  'client-not-open',
  'lag-not-zero',
  'unexpected-exit',
  'rss-unbounded',
] as const;

export type AnomalyClass = (typeof ANOMALY_CLASSES)[number];

/** Who and what an anomaly is about; each class fills in the fields that name its case. */
export interface AnomalyIds {
  room?: string;
  seq?: number;
  /** The last seq of a range that starts at `seq`. */
  toSeq?: number;
  user?: string;
  client?: string;
  connection?: string;
  clientMsgId?: string;
  /** The other message of a pair (a reorder: the one acked before this was sent; stored twice: the first row). */
  earlierClientMsgId?: string;
  earlierSeq?: number;
  process?: string;
  pid?: number;
  consumer?: string;
}

export interface Anomaly {
  class: AnomalyClass;
  ids: AnomalyIds;
  explanation: string;
}

/**
 * Collects anomalies, keeping at most `maxPerClass` of each class (a broken run can have millions of one kind; the
 * first ones tell the story) while counting them all.
 */
export class AnomalyLog {
  readonly kept: Anomaly[] = [];
  readonly counts: Partial<Record<AnomalyClass, number>> = {};

  constructor(private readonly maxPerClass: number) {}

  add(anomalyClass: AnomalyClass, ids: AnomalyIds, explanation: string): void {
    const count = (this.counts[anomalyClass] ?? 0) + 1;
    this.counts[anomalyClass] = count;
    if (count <= this.maxPerClass) this.kept.push({ class: anomalyClass, ids, explanation });
  }
}
