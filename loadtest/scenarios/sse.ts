// SSE + POST: each VU reads its room's event stream and sends with
// POST /api/rooms/{id}/messages (202 = acknowledged). Events that arrive while a
// POST is in flight wait in the SSE module's queue. A dropped stream is opened
// again with Last-Event-ID.
import { sleep } from 'k6';
import sse from 'k6/x/sse';
import type { ReadyEvent, ServerFrame } from '@chat/protocol';
import { authHeaders, createSchedule, joinAsVu, plan, Receiver, scenarioOptions, sendDueAt, sendOverHttp, type Schedule } from '../lib/chat-load';

export const options = scenarioOptions();
export const setup = createSchedule;

export default function (schedule: Schedule): void {
  const member = joinAsVu(schedule);
  const receiver = new Receiver(member);
  const open = () =>
    sse.open(`${plan.baseUrl}/sse?rooms=${member.room}`, {
      ...authHeaders(member),
      ...(receiver.cursor ? { 'last-event-id': receiver.cursor } : {}),
    });
  let stream = open();
  let n = 0;
  while (Date.now() < schedule.drainUntil) {
    const due = sendDueAt(member, n);
    const sending = due < schedule.sendUntil;
    if (sending && Date.now() >= due) {
      sendOverHttp(member, n++);
      continue;
    }
    try {
      const event = stream.next(Math.max(1, (sending ? due : schedule.drainUntil) - Date.now()));
      // The ready event's cursor travels on its `id:` line only.
      if (event) receiver.onEvent({ ...(JSON.parse(event.data) as ServerFrame | ReadyEvent), cursor: event.id } as ServerFrame | ReadyEvent);
    } catch {
      receiver.reconnected();
      sleep(0.5);
      stream = open();
    }
  }
  stream.close();
  receiver.settle();
}
