import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import {
  DeleteFrameSchema,
  EditFrameSchema,
  PingFrameSchema,
  SendFrameSchema,
  SubscriptionFrameSchema,
  TypingFrameSchema,
  type ClientFrame,
} from './schemas';
import { canonicalUuid } from './limits';
import { checkMessageText } from './text';
import type { ErrorFrame } from './types';

const validators = {
  send: TypeCompiler.Compile(SendFrameSchema),
  subscribe: TypeCompiler.Compile(SubscriptionFrameSchema),
  unsubscribe: TypeCompiler.Compile(SubscriptionFrameSchema),
  typing: TypeCompiler.Compile(TypingFrameSchema),
  ping: TypeCompiler.Compile(PingFrameSchema),
  edit: TypeCompiler.Compile(EditFrameSchema),
  delete: TypeCompiler.Compile(DeleteFrameSchema),
} satisfies Record<ClientFrame['type'], ReturnType<typeof TypeCompiler.Compile<TSchema>>>;

export type FrameParseResult = { ok: true; frame: ClientFrame } | { ok: false; error: ErrorFrame };

function invalid(message: string, clientMsgId?: unknown): FrameParseResult {
  const error: ErrorFrame = { type: 'error', code: 'invalid_input', message };
  if (typeof clientMsgId === 'string' && clientMsgId.length <= 64) error.clientMsgId = clientMsgId;
  return { ok: false, error };
}

/** Parses and validates one client WebSocket frame; never throws. */
export function parseClientFrame(raw: string): FrameParseResult {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return invalid('frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('frame must be a JSON object');
  const { type, clientMsgId } = value as { type?: unknown; clientMsgId?: unknown };
  if (typeof type !== 'string' || !Object.hasOwn(validators, type)) {
    return invalid(`unknown frame type: ${String(type).slice(0, 32)}`);
  }
  const validator = validators[type as ClientFrame['type']];
  if (!validator.Check(value)) {
    const first = validator.Errors(value).First();
    const where = first?.path ? `${first.path}: ` : '';
    return invalid(`invalid ${type} frame: ${where}${first?.message ?? 'does not match the schema'}`, clientMsgId);
  }
  const frame = value as ClientFrame;
  if ('rooms' in frame) frame.rooms = frame.rooms.map(canonicalUuid);
  else if ('room' in frame) frame.room = canonicalUuid(frame.room);
  if (frame.type === 'send' || frame.type === 'edit') {
    const problem = checkMessageText(frame.text);
    if (problem) return invalid(problem, frame.clientMsgId);
  }
  return { ok: true, frame };
}
