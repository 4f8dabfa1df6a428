// WebSocket: each VU holds one socket to its room and sends `send` frames on it,
// counting `ack` frames. A socket that drops before the drain ends is opened again
// from the last cursor, and the sends it left unacknowledged go out again with the
// same clientMsgId (the server keeps one message per clientMsgId).
import { WebSocket } from 'k6/websockets';
import { setTimeout } from 'k6/timers';
import type { SendFrame, ServerFrame } from '@chat/protocol';
import {
  authHeaders, createSchedule, joinAsVu, msUntil, plan, Receiver, recordAck, recordResend, recordSendError, scenarioOptions, sendDueAt, sendFrame,
  type Schedule,
} from '../lib/chat-load';

export const options = scenarioOptions();
export const setup = createSchedule;

export default async function (schedule: Schedule): Promise<void> {
  const member = joinAsVu(schedule);
  const receiver = new Receiver(member);
  const streamUrl = `${plan.baseUrl.replace(/^http/, 'ws')}/ws?rooms=${member.room}`;
  let socket: WebSocket;
  let finished = false;
  const unacked = new Map<string, SendFrame>();

  await new Promise<void>((resolve) => {
    const connect = () => {
      const url = receiver.cursor ? `${streamUrl}&cursor=${encodeURIComponent(receiver.cursor)}` : streamUrl;
      socket = new WebSocket(url, null, { headers: authHeaders(member) });
      socket.onopen = () => {
        for (const frame of unacked.values()) {
          recordResend();
          socket.send(JSON.stringify(frame));
        }
      };
      socket.onmessage = (message) => {
        if (!message) return;
        const frame = JSON.parse(String(message.data)) as ServerFrame;
        if (frame.type === 'ack' || frame.type === 'error') {
          // An ack may come twice for a resent frame; the first one counts.
          if (!frame.clientMsgId || !unacked.delete(frame.clientMsgId)) return;
          if (frame.type === 'ack') recordAck(member);
          else recordSendError();
        } else receiver.onEvent(frame);
      };
      socket.onclose = () => {
        if (finished) return resolve();
        receiver.reconnected();
        setTimeout(connect, 500);
      };
    };
    connect();

    let n = 0;
    const sendNext = () => {
      const due = sendDueAt(member, n);
      if (due >= schedule.sendUntil) return;
      setTimeout(() => {
        const frame: SendFrame = { type: 'send', ...sendFrame(member, n) };
        unacked.set(frame.clientMsgId, frame);
        // While the socket is down the frame waits for the reconnect.
        if (socket.readyState === 1) socket.send(JSON.stringify(frame));
        n++;
        sendNext();
      }, msUntil(due));
    };
    sendNext();
    setTimeout(() => {
      finished = true;
      socket.close();
    }, msUntil(schedule.drainUntil));
  });
  for (let i = 0; i < unacked.size; i++) recordSendError();
  receiver.settle();
}
