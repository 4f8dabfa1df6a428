// Long polling: each VU polls its room from the last cursor while an async loop
// sends with POST. The first poll, made before anyone sends, fixes the stream's
// starting position (its answer's cursor); polls shorten near the end of the drain.
import http from 'k6/http';
import { setTimeout } from 'k6/timers';
import type { ServerFrame } from '@chat/protocol';
import {
  authHeaders, createSchedule, joinAsVu, msUntil, plan, Receiver, scenarioOptions, sendDueAt, sendOverHttpAsync, type Member, type Schedule,
} from '../lib/chat-load';

export const options = scenarioOptions();
export const setup = createSchedule;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function poll(member: Member, receiver: Receiver, schedule: Schedule): Promise<void> {
  let opened = false;
  while (Date.now() < schedule.drainUntil) {
    const timeoutS = opened ? Math.max(1, Math.min(10, Math.floor(msUntil(schedule.drainUntil) / 1000))) : 1;
    const cursor = receiver.cursor ? `&cursor=${encodeURIComponent(receiver.cursor)}` : '';
    const response = await http.asyncRequest('GET', `${plan.baseUrl}/poll?rooms=${member.room}&timeout=${timeoutS}${cursor}`, null, {
      headers: authHeaders(member),
      timeout: '45s',
    });
    if (response.status !== 200) {
      receiver.reconnected();
      await pause(500);
      continue;
    }
    const body = response.json() as unknown as { events: ServerFrame[]; cursor: string };
    if (!opened) {
      if (body.events.some((event) => event.type === 'message')) throw new Error('messages arrived before anyone sent');
      receiver.onEvent({ type: 'ready', cursor: body.cursor });
      opened = true;
      continue;
    }
    for (const event of body.events) receiver.onEvent(event);
    receiver.cursor = body.cursor;
  }
}

async function send(member: Member, schedule: Schedule): Promise<void> {
  for (let n = 0; sendDueAt(member, n) < schedule.sendUntil; n++) {
    await pause(msUntil(sendDueAt(member, n)));
    await sendOverHttpAsync(member, n);
  }
}

export default async function (schedule: Schedule): Promise<void> {
  const member = joinAsVu(schedule);
  const receiver = new Receiver(member);
  await Promise.all([poll(member, receiver, schedule), send(member, schedule)]);
  receiver.settle();
}
