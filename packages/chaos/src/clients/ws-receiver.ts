import WebSocket from 'ws';
import { monotonicNow } from '../history';
import type { ConnectionRecorder } from './connection-recorder';
import { ResumingReceiver, type ConnectionPlan, type ReceiverOptions } from './resuming-receiver';

export interface WsReceiverOptions extends ReceiverOptions {
  /** An application ping goes out this often; a socket that says nothing for two of them is dead. */
  pingIntervalMs?: number;
}

/**
 * A raw WebSocket receiver: `/ws?rooms&cursor`, every frame recorded as it arrives. Its liveness is its own (an
 * application ping, and silence for two intervals ends the socket), so a frozen or blackholed gateway costs a
 * reconnect, not the rest of the run.
 */
export class WsReceiver extends ResumingReceiver {
  readonly transport = 'websocket';
  /** The open socket, once its `ready` frame arrived. */
  protected socket: WebSocket | undefined;
  protected currentConnection: string | undefined;
  private readonly pingIntervalMs: number;

  constructor(options: WsReceiverOptions) {
    super(options);
    this.pingIntervalMs = options.pingIntervalMs ?? 5_000;
  }

  protected connectOnce(plan: ConnectionPlan): Promise<void> {
    const url = this.streamUrl(plan.baseUrl.replace(/^http/, 'ws'), '/ws', { cursor: plan.cursor });
    const socket = new WebSocket(url, { headers: this.authorization(), handshakeTimeout: this.options.openTimeoutMs });
    return new Promise<void>((resolve) => {
      let recorder: ConnectionRecorder | undefined;
      let lastHeard = monotonicNow();
      let failure: string | undefined;
      const end = (why: string) => {
        failure ??= why;
        socket.terminate();
      };
      const readyTimer = setTimeout(() => end('no ready frame in time'), this.options.openTimeoutMs);
      const liveness = setInterval(() => {
        if (monotonicNow() - lastHeard > 2 * this.pingIntervalMs) end('silent for two ping intervals');
        else if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
      }, this.pingIntervalMs);
      const onStop = () => {
        failure ??= 'stopped';
        socket.close(1000, 'stopped');
        setTimeout(() => socket.terminate(), 2_000).unref();
      };
      plan.signal.addEventListener('abort', onStop, { once: true });

      // Handled here, the refusal would leave the socket connecting: terminating it ends the handshake and closes it.
      socket.on('unexpected-response', (_request, response) => end(`upgrade refused: ${response.statusCode}`));
      socket.on('open', () => {
        recorder = plan.opened();
        this.currentConnection = plan.connection;
      });
      socket.on('ping', () => (lastHeard = monotonicNow()));
      socket.on('message', (data) => {
        lastHeard = monotonicNow();
        const frame = recorder?.frame(data.toString());
        if (!frame || !recorder) return;
        this.noteCursor(frame.cursor);
        if (frame.type === 'ready' && typeof frame.cursor === 'string') {
          clearTimeout(readyTimer);
          recorder.positions(frame.cursor);
          this.socket = socket;
          this.onReady();
        }
        this.onFrame(frame);
      });
      socket.on('error', (error) => (failure ??= error.message));
      socket.on('close', (code, reason) => {
        clearTimeout(readyTimer);
        clearInterval(liveness);
        plan.signal.removeEventListener('abort', onStop);
        this.socket = undefined;
        this.currentConnection = undefined;
        recorder?.close(`close ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}${failure ? ` (${failure})` : ''}`);
        this.onClosed();
        resolve();
      });
    });
  }

  /** The stream is ready: sends may go out. */
  protected onReady(): void {}

  protected onFrame(_frame: Record<string, unknown>): void {}

  protected onClosed(): void {}
}
