import type { Readiness } from '@chat/runtime';

/** A Kafka consumer of the gateway, as readiness sees it. */
export interface FeedState {
  /** In its group now. */
  readonly isReady: boolean;
  /** Joined its group at least once since the gateway started. */
  readonly hasJoined: boolean;
}

export interface ReadinessDeps {
  /** False from the start of a drain. */
  accepting(): boolean;
  /** Resolves once Postgres has answered a trivial query. */
  pingDatabase(): Promise<unknown>;
  /** How long Postgres may take to answer; below the readiness probe's own timeout. */
  databaseTimeoutMs: number;
  /** The gateway's Kafka consumers, by the name its body reports them under. */
  feeds: Readonly<Record<string, FeedState>>;
}

type DatabaseCheck = 'ok' | 'unreachable' | 'timeout';

/**
 * What /readyz answers for a gateway: ready while it can serve what a balancer sends it (REST and new streams), that
 * is, while it is not draining and Postgres, which every request needs, answers within the deadline.
 *
 * The Kafka consumers count only at start-up (until each has joined its group once, a stream would miss live events):
 * afterwards a feed that is down is a `degraded` detail, not a 503. Every replica reads the same brokers, so a Kafka
 * blip would otherwise take every gateway out of the balancer at the same moment and turn it into a 503 for all of
 * REST, which does not need the feed; streams meanwhile catch up from Postgres once the feed is back (holes, the tail
 * check).
 *
 * Concurrent probes share one Postgres query in flight.
 */
export class GatewayReadiness {
  private inFlight: Promise<DatabaseCheck> | undefined;

  constructor(private readonly deps: ReadinessDeps) {}

  async check(): Promise<Readiness> {
    const draining = !this.deps.accepting();
    const database = await this.checkDatabase();
    const checks: Readiness['checks'] = { draining, database };
    let starting = false;
    let degraded = false;
    for (const [name, feed] of Object.entries(this.deps.feeds)) {
      checks[name] = feed.isReady ? 'ok' : feed.hasJoined ? 'reconnecting' : 'starting';
      starting ||= !feed.hasJoined;
      degraded ||= !feed.isReady;
    }
    const status = draining || database !== 'ok' || starting ? 'not_ready' : degraded ? 'degraded' : 'ready';
    return { status, checks };
  }

  private checkDatabase(): Promise<DatabaseCheck> {
    this.inFlight ??= this.pingWithin().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async pingWithin(): Promise<DatabaseCheck> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DatabaseCheck>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.deps.databaseTimeoutMs);
    });
    const answered = this.deps.pingDatabase().then(
      (): DatabaseCheck => 'ok',
      (): DatabaseCheck => 'unreachable',
    );
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
