/**
 * Catch-ups in a row that may end before a hole; past this, the stream ends for a resync (its client resumes from its
 * cursor and catches up afresh), so that a lost row cannot stall it and nothing is delivered past a row that may exist.
 */
export const MAX_HOLE_ROUNDS = 3;

interface Entry {
  seq: number;
}

export interface CatchUpState<B extends Entry> {
  /** Seq of the last entry delivered. */
  position: number;
  /** Catch-ups in a row that ended before a hole. */
  holeRounds: number;
  /** Live events that arrived during the catch-up, in arrival order; never changed here. */
  buffered: B[];
}

/** `S`: an entry Postgres served; `B`: a live event buffered meanwhile. */
export interface CatchUpStep<S extends Entry, B extends Entry> {
  position: number;
  holeRounds: number;
  /** What still waits for a later read. */
  buffered: B[];
  /** In order; `skippedFrom` marks an entry delivered past a gap inside a served page (the position before it). */
  deliver: Array<{ entry: S | B; skippedFrom?: number }>;
  /**
   * `page`: the page was full, read the next one. `hole`: a live event waits past a gap, read again. `live`: caught
   * up. `resync`: the gap before a live event did not fill within the reads allowed: the stream ends, at the position
   * before the gap, for its client to resume from there.
   */
  next: 'page' | 'hole' | 'live' | 'resync';
}

/**
 * One room's part of one catch-up page: the rule that joins what Postgres served (`served`, ascending, after the
 * position) with the live events buffered meanwhile, so that the room's entries leave in seq order with no gap and
 * no repeat. Pure: the session applies the step.
 *
 * - Served entries follow the position. A gap inside them is a row Postgres lacks for good (one writer commits a
 *   room's seqs in order, so a later row is never visible before an earlier one): delivered past, and marked.
 * - A full page means more history: the buffer keeps waiting.
 * - Otherwise the buffer is released in seq order; entries at or below the position are repeats and dropped. A
 *   buffered event past a gap means Postgres had not yet shown the gap's rows to this read (it commits before Kafka
 *   publishes, so they are there now): read again, up to `maxHoleRounds` times in a row, then resync. Skipping
 *   ahead there would lose a row for good that a later read may well see (a slow commit, a lagging replica); a resume
 *   reads the room afresh and, the live event's row being stored, finds the gap inside a served page if it persists.
 */
export function catchUpStep<S extends Entry, B extends Entry>(
  state: CatchUpState<B>,
  served: readonly S[],
  full: boolean,
  maxHoleRounds = MAX_HOLE_ROUNDS,
): CatchUpStep<S, B> {
  const deliver: CatchUpStep<S, B>['deliver'] = [];
  let { position, holeRounds } = state;
  const take = (entry: S | B) => {
    deliver.push(entry.seq === position + 1 ? { entry } : { entry, skippedFrom: position });
    position = entry.seq;
  };
  for (const entry of served) if (entry.seq > position) take(entry);
  if (full) return { position, holeRounds, buffered: state.buffered, deliver, next: 'page' };

  const buffered = [...state.buffered].sort((a, b) => a.seq - b.seq);
  for (const [index, entry] of buffered.entries()) {
    if (entry.seq <= position) continue;
    if (entry.seq !== position + 1) {
      const next = holeRounds < maxHoleRounds ? 'hole' : 'resync';
      return { position, holeRounds: holeRounds + 1, buffered: buffered.slice(index), deliver, next };
    }
    take(entry);
    holeRounds = 0;
  }
  return { position, holeRounds, buffered: [], deliver, next: 'live' };
}
