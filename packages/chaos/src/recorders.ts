/**
 * Recording clients: they speak the wire protocol themselves (docs/protocol.md), resume by hand from the last
 * cursor they saw, and log every raw frame into the history before anything could dedupe it. The seam for clients
 * that are not raw (the SDK, through its raw-frame hook) is `ConnectionRecorder`: whatever holds a connection
 * reports its opening, each frame as it came off the wire and its end, and the history reads the same; such a client
 * is a `RecordingClient` that the harness starts and stops like these. `SdkClient` is that client: the real SDK on a
 * forced transport, recorded through its hooks.
 */
export { ConnectionRecorder, positionsOf, type Identity, type RecordingClient } from './clients/connection-recorder';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './clients/backoff';
export { ResumingReceiver, type ReceiverOptions } from './clients/resuming-receiver';
export { WsReceiver } from './clients/ws-receiver';
export { SseReceiver, type SseReceiverOptions } from './clients/sse-receiver';
export { PollReceiver, type PollReceiverOptions } from './clients/poll-receiver';
export { WsSender, type WsSenderOptions } from './clients/ws-sender';
export { HttpSender, type HttpSenderOptions } from './clients/http-sender';
export { SdkClient, type SdkClientOptions } from './clients/sdk-client';
export type { SendResult } from './clients/send-window';
