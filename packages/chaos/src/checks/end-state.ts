import type { HistoryOp } from '../history';
import type { AnomalyLog } from './anomalies';
import type { Connection, Receiver } from './deliveries';
import type { FaultTimeline } from './faults';
import type { AckedByRoom, LogicalSend } from './sends';
import { lowerBound, positionKey, range, upperBound, type StoredLog } from './stored-log';

export interface EndStateOptions {
  healBoundMs: number;
  membershipBoundMs: number;
  lagBoundMs: number;
  maxLagAfterHeal: number;
}

/**
 * As of the settled moment: every client the suite did not stop is open; every receiver open then gets every entry
 * its chain owes in each room it is subscribed to and a member of, and each acked one within the heal bound (counted
 * from the settle point of its ack: `FaultTimeline.settlesAt`). Returns the longest time from a settle point to such
 * a delivery: how long the system took to heal.
 */
export function checkDeliveredToConnected(
  receivers: ReadonlyMap<string, Receiver>,
  stored: StoredLog,
  sends: ReadonlyMap<string, LogicalSend>,
  ackedByRoom: AckedByRoom,
  faults: FaultTimeline,
  settledAt: number,
  options: EndStateOptions,
  anomalies: AnomalyLog,
): number | undefined {
  const acked = new Map<string, LogicalSend>();
  for (const send of sends.values()) if (send.status === 'acked' && send.row) acked.set(positionKey(send.room, send.row.seq), send);

  let longestHealMs: number | undefined;
  for (const receiver of receivers.values()) {
    if (receiver.stoppedAt !== undefined && receiver.stoppedAt <= settledAt) continue;
    const connection = openAt(receiver, settledAt);
    if (!connection) {
      const last = receiver.connections[receiver.connections.length - 1];
      anomalies.add(
        'client-not-open',
        { client: receiver.client, connection: last?.id },
        `${receiver.client} has no open connection when the run settled (its last one closed${last?.closeReason ? `: ${last.closeReason}` : ''})`,
      );
      continue;
    }
    const rooms = (connection.opened.rooms ?? [...stored.roomsOfMember(receiver.user)]).filter((room) => stored.isMember(receiver.user, room));
    for (const room of rooms) {
      const chain = receiver.chains.get(room);
      if (!chain || chain.start === undefined) {
        // Nothing arrived since the subscription began: whatever was sent a bound after it should have.
        const owed = ackedByRoom.invokedAfter(room, (chain?.since ?? connection.opened.t) + options.membershipBoundMs);
        if (owed.length > 0) {
          anomalies.add(
            'not-delivered',
            { client: receiver.client, room, clientMsgId: owed[0]!.clientMsgId, seq: owed[0]!.row!.seq },
            `${receiver.client} is subscribed to room ${room} but got none of the ${owed.length} messages acked there since it subscribed`,
          );
        }
        continue;
      }
      const last = stored.maxSeq(room);
      if (stored.countBetween(room, chain.end + 1, last) > 0) {
        anomalies.add(
          'not-delivered',
          { client: receiver.client, room, seq: chain.end + 1, toSeq: last },
          `${receiver.client} is subscribed to room ${room} but never got seq ${range(chain.end + 1, last)} (its last is ${chain.end})`,
        );
      }
      for (const [seq, deliveredAt] of receiver.seen.get(room) ?? []) {
        if (seq <= chain.start || seq > chain.end) continue;
        const send = acked.get(positionKey(room, seq));
        if (!send) continue;
        const settle = Math.max(faults.settlesAt(send.ackedAt!, options.healBoundMs), chain.since);
        if (deliveredAt > settle + options.healBoundMs) {
          anomalies.add(
            'not-delivered',
            { client: receiver.client, room, seq, clientMsgId: send.clientMsgId },
            `${receiver.client} got seq ${seq} of room ${room} ${Math.round(deliveredAt - settle)} ms after ${settle > send.ackedAt! ? 'the heal' : 'its ack'}, past the bound of ${options.healBoundMs} ms`,
          );
        }
        if (settle > send.ackedAt! && deliveredAt > settle) longestHealMs = Math.max(longestHealMs ?? 0, deliveredAt - settle);
      }
    }
  }
  return longestHealMs;
}

/** The connection of the receiver that was open at `t` (the latest opened, if several). */
function openAt(receiver: Receiver, t: number): Connection | undefined {
  for (let i = receiver.connections.length - 1; i >= 0; i--) {
    const connection = receiver.connections[i]!;
    if (connection.opened.t <= t && (connection.closedAt === undefined || connection.closedAt > t)) return connection;
  }
  return undefined;
}

/**
 * Consumer lag returns to at most `maxLagAfterHeal` within the lag bound of every heal that no fault followed within
 * the bound (a fault that starts sooner may well hold the lag up: the heal at the end of that run of faults is judged),
 * when a sample past the bound shows the bound was watched; and is there at the last sample after the run settled.
 */
export function checkLag(ops: readonly HistoryOp[], faults: FaultTimeline, settledAt: number | undefined, options: EndStateOptions, anomalies: AnomalyLog): void {
  const series = new Map<string, Array<{ t: number; lag: number }>>();
  for (const op of ops) {
    if (op.op !== 'lag-sample') continue;
    const samples = series.get(op.consumer);
    if (samples) samples.push({ t: op.t, lag: op.lag });
    else series.set(op.consumer, [{ t: op.t, lag: op.lag }]);
  }
  for (const [consumer, samples] of series) {
    const times = samples.map((sample) => sample.t);
    for (const heal of faults.quietHealPoints(options.lagBoundMs)) {
      const windowEnd = heal + options.lagBoundMs;
      if (times[times.length - 1]! <= windowEnd) continue;
      const inWindow = samples.slice(lowerBound(times, heal), upperBound(times, windowEnd));
      if (inWindow.some((sample) => sample.lag <= options.maxLagAfterHeal)) continue;
      const lowest = inWindow.length > 0 ? inWindow.reduce((low, sample) => Math.min(low, sample.lag), Infinity) : undefined;
      anomalies.add(
        'lag-not-zero',
        { consumer },
        `${consumer}'s lag did not come down to ${options.maxLagAfterHeal} within ${options.lagBoundMs} ms of a heal ` +
          (lowest === undefined ? '(no sample in that time)' : `(lowest ${lowest} over ${inWindow.length} samples)`),
      );
    }
    const last = samples[samples.length - 1]!;
    if (settledAt !== undefined && last.t >= settledAt && last.lag > options.maxLagAfterHeal) {
      anomalies.add('lag-not-zero', { consumer }, `${consumer}'s lag is ${last.lag} at its last sample after the run settled`);
    }
  }
}
