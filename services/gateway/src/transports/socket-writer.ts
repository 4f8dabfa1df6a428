import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { DISCONNECT, type Disconnect, type UserRef } from '@chat/protocol';
import type { LiveConnection } from '../session/connections';
import { websocketTextFrame, type OutgoingEvent } from '../session/outgoing-event';
import type { StreamOutput } from '../session/session';
import { WriteBurst, type BacklogLimit } from './write-burst';

/**
 * Everything the gateway writes on one WebSocket: the session's output, and the registry's handle on it.
 * Frames go to the TCP socket ready-made: an event's frame is encoded once and
 * the same bytes go to every stream at its cursor (OutgoingEvent). ws itself
 * writes only pings, pongs and closes here, synchronously, since
 * permessage-deflate is off, so the two never interleave within a frame.
 */
export class SocketWriter implements StreamOutput, LiveConnection {
  readonly transport = 'websocket';
  private readonly burst: WriteBurst;

  constructor(
    private readonly socket: WebSocket,
    connection: Socket,
    readonly user: UserRef,
    readonly ip: string,
    private readonly limit: BacklogLimit,
  ) {
    this.burst = new WriteBurst(connection, this);
  }

  /** Frames still go out: not once a close has begun (ws writes the close frame itself). */
  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  push(event: OutgoingEvent): void {
    this.write(event.websocketFrame);
  }

  /** Closes after the frames written so far, which would otherwise follow the close frame and be lost. */
  close(disconnect: Disconnect): void {
    this.burst.flush();
    this.socket.close(disconnect.closeCode, disconnect.reason);
  }

  /** A frame of our own: an ack, an error, a pong. */
  text(text: string): void {
    this.write(websocketTextFrame(text));
  }

  private write(frame: Buffer): void {
    if (!this.open) return;
    if (this.burst.backlog > this.limit.maxBytes) {
      this.limit.cut();
      this.close(DISCONNECT.tooSlow);
      return;
    }
    this.burst.write(frame);
  }
}
