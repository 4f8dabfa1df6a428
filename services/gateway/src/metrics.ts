import { LATENCY_BUCKETS_SECONDS } from '@chat/kafka';
import type { TransportName } from '@chat/protocol';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const TRANSPORTS: TransportName[] = ['websocket', 'sse', 'poll'];

/** The gateway's Prometheus series (docs/observability.md lists them). */
export class GatewayMetrics {
  readonly connects: Counter<'transport'>;
  readonly disconnects: Counter<'transport'>;
  readonly messagesIn: Counter<'kind'>;
  readonly deliveryLatency: Histogram;
  readonly slowConsumerCuts: Counter<'transport'>;
  readonly framesRefused: Counter<'reason'>;
  /** Deliveries not yet added to chat_messages_out_total, which adds them when scraped. */
  private deliveredSinceScrape = 0;

  constructor(registry: Registry, connections: { count(transport: TransportName): number }) {
    new Gauge({
      name: 'chat_connections_open',
      help: 'Open streams on this gateway, by transport (long polls count while a poll is open)',
      labelNames: ['transport'],
      registers: [registry],
      collect() {
        for (const transport of TRANSPORTS) this.set({ transport }, connections.count(transport));
      },
    });
    this.connects = new Counter({ name: 'chat_connects_total', help: 'Streams opened', labelNames: ['transport'], registers: [registry] });
    this.disconnects = new Counter({ name: 'chat_disconnects_total', help: 'Streams closed', labelNames: ['transport'], registers: [registry] });
    this.messagesIn = new Counter({
      name: 'chat_messages_in_total',
      help: 'Sends, edits and deletes accepted and durable in Kafka',
      labelNames: ['kind'],
      registers: [registry],
    });
    const takeDelivered = () => {
      const count = this.deliveredSinceScrape;
      this.deliveredSinceScrape = 0;
      return count;
    };
    new Counter({
      name: 'chat_messages_out_total',
      help: 'Room log entries delivered to streams (per recipient)',
      registers: [registry],
      collect() {
        this.inc(takeDelivered());
      },
    });
    this.deliveryLatency = new Histogram({
      name: 'chat_delivery_latency_seconds',
      help: 'From a send accepted by a gateway to its event reaching this gateway for delivery',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.framesRefused = new Counter({
      name: 'chat_frames_refused_total',
      help: "WebSocket frames refused rate_limited before they were handled: reason frame_rate (the connection's token bucket was empty) or subscribe_in_flight (a subscribe while the previous one was read)",
      labelNames: ['reason'],
      registers: [registry],
    });
    this.slowConsumerCuts = new Counter({
      name: 'chat_outbound_drops_total',
      help: 'Streams cut off because their outbound buffer passed its bound',
      labelNames: ['transport'],
      registers: [registry],
    });
  }

  /**
   * One room log entry handed to one stream. Counted in a plain number and added to the counter when it is
   * scraped: a room of 1,000 members is 1,000 of these per event, and prom-client's inc() was 2 % of the
   * gateway's CPU in the fan-out benchmark.
   */
  countDelivery(): void {
    this.deliveredSinceScrape++;
  }

  observeDelivery(sentAt: string | undefined): void {
    const at = sentAt ? Date.parse(sentAt) : NaN;
    if (!Number.isNaN(at)) this.deliveryLatency.observe(Math.max(0, Date.now() - at) / 1000);
  }
}
