/**
 * What every k6 scenario shares: the run's plan from the environment, the
 * options and thresholds, the chat API calls, and one Receiver that turns stream
 * events into the delivery metrics. Wire types and cursors come from
 * @chat/protocol (bundled into the script by loadtest/run.mjs).
 */
import { sleep } from 'k6';
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { decodeCursor, type ReadyEvent, type RoomSummary, type ServerFrame, type UserRef } from '@chat/protocol';
import { DeliveryLedger, membersOfRoom, probeSentAt, probeText, roomIndexOfVu } from './delivery-ledger';

function numberFromEnv(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

/** VUS receivers-and-senders in ROOMS rooms, each sending RATE messages/s for DURATION s, then DRAIN s of quiet. */
export const plan = {
  baseUrl: (__ENV.BASE_URL ?? 'http://localhost:8080').replace(/\/+$/, ''),
  vus: Math.floor(numberFromEnv('VUS', 10)),
  rooms: Math.floor(numberFromEnv('ROOMS', 2)),
  ratePerVu: numberFromEnv('RATE', 1),
  durationS: numberFromEnv('DURATION', 30),
  drainS: numberFromEnv('DRAIN', 5),
  /** Time for every VU to log in and open its stream before the first send. */
  warmupS: numberFromEnv('WARMUP', 5),
  p99BudgetMs: numberFromEnv('P99_BUDGET_MS', 1000),
};

export function scenarioOptions(): Options {
  const lastS = plan.warmupS + plan.durationS + plan.drainS;
  return {
    setupTimeout: '60s',
    scenarios: {
      chat: { executor: 'per-vu-iterations', vus: plan.vus, iterations: 1, maxDuration: `${Math.ceil(lastS + 60)}s` },
    },
    thresholds: {
      chat_messages_lost: ['count==0'],
      chat_messages_duplicated: ['count==0'],
      chat_messages_reordered: ['count==0'],
      chat_send_errors: ['count==0'],
      chat_messages_delivered: ['count>0'],
      // A VU that failed anywhere (login, stream refused, settle) never adds itself here.
      chat_receivers_settled: [`count==${plan.vus}`],
      chat_delivery_latency: [`p(99)<${plan.p99BudgetMs}`],
    },
    summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
  };
}

const metrics = {
  expected: new Counter('chat_messages_expected'),
  delivered: new Counter('chat_messages_delivered'),
  lost: new Counter('chat_messages_lost'),
  duplicated: new Counter('chat_messages_duplicated'),
  reordered: new Counter('chat_messages_reordered'),
  acked: new Counter('chat_sends_acked'),
  expectedByAcks: new Counter('chat_deliveries_expected_by_acks'),
  sendErrors: new Counter('chat_send_errors'),
  reconnects: new Counter('chat_stream_reconnects'),
  settled: new Counter('chat_receivers_settled'),
  retries: new Counter('chat_send_retries'),
  latency: new Trend('chat_delivery_latency', true),
};

/** Wall-clock moments every VU shares, so all streams are open before the first send and outlive the last one. */
export interface Schedule {
  tag: string;
  rooms: string[];
  startAt: number;
  sendUntil: number;
  drainUntil: number;
}

const json = (token?: string) => ({
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
});

/** Signs in; a `429` (the gateway's per-address `LOGIN_RATE_PER_SECOND`: every VU of one load generator shares an address) waits its `Retry-After`, a few times. */
function login(username: string): { token: string; user: UserRef } {
  for (let attempt = 1; ; attempt++) {
    const response = http.post(`${plan.baseUrl}/api/login`, JSON.stringify({ username }), json());
    if (response.status === 429 && attempt < 10) {
      sleep(Math.min(10, Number(response.headers['Retry-After'] ?? 1)) * (0.5 + Math.random()));
      continue;
    }
    if (response.status !== 200) throw new Error(`login ${username}: ${response.status} ${response.body}`);
    return response.json() as unknown as { token: string; user: UserRef };
  }
}

/** k6 setup(): the rooms of this run (fresh ones, so their seqs are the test's alone) and the schedule. */
export function createSchedule(): Schedule {
  const tag = Date.now().toString(36);
  const { token } = login(`k6_${tag}_owner`);
  const rooms = Array.from({ length: plan.rooms }, (_, i) => {
    const response = http.post(`${plan.baseUrl}/api/rooms`, JSON.stringify({ name: `k6 ${tag} ${i}` }), json(token));
    if (response.status !== 201) throw new Error(`create room: ${response.status} ${response.body}`);
    return (response.json() as unknown as { room: { id: string } }).room.id;
  });
  const startAt = Date.now() + plan.warmupS * 1000;
  const sendUntil = startAt + plan.durationS * 1000;
  return { tag, rooms, startAt, sendUntil, drainUntil: sendUntil + plan.drainS * 1000 };
}

/** This VU as a chat user: logged in and a member of its room. */
export interface Member {
  vu: number;
  token: string;
  room: string;
  /** Every VU in the room receives each message sent there, the sender included. */
  receiversInRoom: number;
  schedule: Schedule;
}

export function joinAsVu(schedule: Schedule): Member {
  const vu = exec.vu.idInTest;
  const { token } = login(`k6_${schedule.tag}_${vu}`);
  const roomIndex = roomIndexOfVu(vu, plan.rooms);
  const room = schedule.rooms[roomIndex]!;
  const response = http.post(`${plan.baseUrl}/api/rooms/${room}/join`, null, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`join: ${response.status} ${response.body}`);
  return { vu, token, room, receiversInRoom: membersOfRoom(roomIndex, plan.vus, plan.rooms), schedule };
}

/** The n-th send of this VU is due at this moment: RATE per second, VUs staggered across the interval. */
export function sendDueAt(member: Member, n: number): number {
  const intervalMs = 1000 / plan.ratePerVu;
  return member.schedule.startAt + ((member.vu * 37) % intervalMs) + n * intervalMs;
}

export function sendFrame(member: Member, n: number) {
  return { room: member.room, clientMsgId: `${member.schedule.tag}-${member.vu}-${n}`, text: probeText(Date.now(), member.vu, n) };
}

/** A send the server acknowledged: every receiver in the room now owes one delivery. */
export function recordAck(member: Member): void {
  metrics.acked.add(1);
  metrics.expectedByAcks.add(member.receiversInRoom);
}

export function recordSendError(): void {
  metrics.sendErrors.add(1);
}

/** As the SDK does: a send whose answer was lost (a replica died mid-request) is retried with the same clientMsgId. */
const SEND_ATTEMPTS = 3;
const isRetryable = (status: number) => status === 0 || status >= 500;

/** POST /api/rooms/{id}/messages, for SSE and long polling. */
export function sendOverHttp(member: Member, n: number): void {
  const { room, ...body } = sendFrame(member, n);
  for (let attempt = 1; ; attempt++) {
    const { status } = http.post(`${plan.baseUrl}/api/rooms/${room}/messages`, JSON.stringify(body), json(member.token));
    if (status === 202) return recordAck(member);
    if (!isRetryable(status) || attempt === SEND_ATTEMPTS) return recordSendError();
    metrics.retries.add(1);
  }
}

export async function sendOverHttpAsync(member: Member, n: number): Promise<void> {
  const { room, ...body } = sendFrame(member, n);
  for (let attempt = 1; ; attempt++) {
    const { status } = await http.asyncRequest('POST', `${plan.baseUrl}/api/rooms/${room}/messages`, JSON.stringify(body), json(member.token));
    if (status === 202) return recordAck(member);
    if (!isRetryable(status) || attempt === SEND_ATTEMPTS) return recordSendError();
    metrics.retries.add(1);
  }
}

/** A WebSocket send went out again (same clientMsgId) after its socket closed before the ack. */
export function recordResend(): void {
  metrics.retries.add(1);
}

export const authHeaders = (member: Member) => ({ authorization: `Bearer ${member.token}` });

/** One VU's stream, whatever the transport: feeds the ledger and keeps the cursor to resume from. */
export class Receiver {
  private readonly ledger = new DeliveryLedger();
  cursor: string | undefined;
  private opened = false;

  constructor(private readonly member: Member) {}

  onEvent(event: ServerFrame | ReadyEvent): void {
    if ('cursor' in event && typeof event.cursor === 'string') this.cursor = event.cursor;
    if (event.type === 'ready' && !this.opened) {
      const start = decodeCursor(event.cursor).get(this.member.room);
      if (start === undefined) throw new Error(`the ready cursor does not cover room ${this.member.room}`);
      this.ledger.open(this.member.room, start);
      this.opened = true;
    } else if ('seq' in event) {
      // Every entry of the log fills its seq, the joins of VUs that arrive after this one among them.
      const arrival = this.ledger.receive(event.room, event.seq, event.type === 'message' ? 'message' : 'other');
      const sentAt = event.type === 'message' ? probeSentAt(event.text) : undefined;
      if (arrival !== 'duplicate' && sentAt !== undefined) metrics.latency.add(Date.now() - sentAt);
    }
  }

  /** A dropped stream that is opened again from the cursor. */
  reconnected(): void {
    metrics.reconnects.add(1);
  }

  /** After the drain: compares what arrived with the room's last seq and records the run's counts. */
  settle(): void {
    const response = http.get(`${plan.baseUrl}/api/rooms`, json(this.member.token));
    const rooms = (response.json() as unknown as { rooms: RoomSummary[] }).rooms;
    const lastSeq = rooms.find((room) => room.id === this.member.room)?.lastSeq;
    if (lastSeq === undefined || !this.opened) throw new Error(`VU ${this.member.vu} could not settle its room`);
    const tally = this.ledger.settle(this.member.room, lastSeq);
    metrics.expected.add(tally.expected);
    metrics.delivered.add(tally.delivered);
    metrics.lost.add(tally.lost);
    // Zero counts are recorded too, so every threshold has a value to judge.
    metrics.duplicated.add(this.ledger.duplicates);
    metrics.reordered.add(this.ledger.reorders);
    metrics.sendErrors.add(0);
    metrics.settled.add(1);
  }
}

export const msUntil = (at: number): number => Math.max(0, at - Date.now());
