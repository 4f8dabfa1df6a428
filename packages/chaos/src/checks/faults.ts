import type { HistoryOp } from '../history';

/**
 * When the system was under a fault: the union of every fault's inject..heal interval (a fault never healed lasts
 * for ever). Bounds after a heal count from the end of the faulty period an instant falls in.
 */
export class FaultTimeline {
  /** Disjoint, in time order. */
  private readonly periods: Array<{ from: number; to: number }> = [];
  readonly injected: number;
  readonly healed: number;

  constructor(ops: readonly HistoryOp[]) {
    const open = new Map<string, number>();
    const intervals: Array<{ from: number; to: number }> = [];
    let injected = 0;
    let healed = 0;
    for (const op of ops) {
      if (op.op !== 'fault') continue;
      if (op.action === 'inject') {
        injected++;
        open.set(op.id, op.t);
      } else {
        const from = open.get(op.id);
        if (from === undefined) continue;
        healed++;
        open.delete(op.id);
        intervals.push({ from, to: op.t });
      }
    }
    for (const from of open.values()) intervals.push({ from, to: Infinity });
    intervals.sort((a, b) => a.from - b.from);
    for (const interval of intervals) {
      const last = this.periods[this.periods.length - 1];
      if (last && interval.from <= last.to) last.to = Math.max(last.to, interval.to);
      else this.periods.push({ ...interval });
    }
    this.injected = injected;
    this.healed = healed;
  }

  /**
   * When a delivery of something acknowledged at `t` is owed by: `boundMs` of healthy time after it. A fault active at
   * `t`, or one that starts within the bound, pushes the deadline to `boundMs` after it heals — and so on through
   * faults that follow each other closer than the bound. Returns the moment the bound starts counting (the settle
   * point: `t` itself when no fault intervened).
   */
  settlesAt(t: number, boundMs: number): number {
    const settle = this.settlePoints(boundMs);
    // The first period that ends at or after t: it holds t, or it is the next one to start.
    let low = 0;
    let high = this.periods.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.periods[middle]!.to < t) low = middle + 1;
      else high = middle;
    }
    const period = this.periods[low];
    if (!period || period.from >= t + boundMs) return t;
    return settle[low]!;
  }

  /** The heals that no fault followed for `quietMs`: where a bound of that length on recovery can be judged. */
  quietHealPoints(quietMs: number): number[] {
    return this.periods
      .filter((period, i) => Number.isFinite(period.to) && !(this.periods[i + 1] && this.periods[i + 1]!.from < period.to + quietMs))
      .map((period) => period.to);
  }

  private settleCache: { boundMs: number; points: number[] } | undefined;

  /** For each period, the end of the run of periods that follow it closer than the bound (computed once per bound). */
  private settlePoints(boundMs: number): number[] {
    if (this.settleCache?.boundMs === boundMs) return this.settleCache.points;
    const points = new Array<number>(this.periods.length);
    for (let i = this.periods.length - 1; i >= 0; i--) {
      const next = this.periods[i + 1];
      points[i] = next && next.from < this.periods[i]!.to + boundMs ? points[i + 1]! : this.periods[i]!.to;
    }
    this.settleCache = { boundMs, points };
    return points;
  }
}
