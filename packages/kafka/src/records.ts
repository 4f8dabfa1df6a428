import type { MessageEvent, UserRef } from '@chat/protocol';

/** A send accepted by a gateway, waiting for the messaging service to give it a seq. */
export interface SendCommand {
  v: 1;
  room: string;
  clientMsgId: string;
  text: string;
  sender: UserRef;
  /** When the gateway accepted it: the start of end-to-end latency. */
  acceptedAt: string;
}

export function encodeSendCommand(command: SendCommand): Buffer {
  return Buffer.from(JSON.stringify(command));
}

/** Returns null for a record that is not a valid command, so one bad record never blocks a partition. */
export function decodeSendCommand(value: Buffer | null): SendCommand | null {
  if (!value) return null;
  try {
    const command = JSON.parse(value.toString('utf8')) as Partial<SendCommand>;
    if (
      command.v !== 1 ||
      typeof command.room !== 'string' ||
      typeof command.clientMsgId !== 'string' ||
      typeof command.text !== 'string' ||
      typeof command.sender?.id !== 'string' ||
      typeof command.sender?.name !== 'string' ||
      typeof command.acceptedAt !== 'string' ||
      Number.isNaN(Date.parse(command.acceptedAt))
    ) {
      return null;
    }
    return command as SendCommand;
  } catch {
    return null;
  }
}

/**
 * A chat.events record: the value is the event exactly as clients receive it
 * (without the per-connection cursor), so gateways forward it without
 * re-serialising.
 */
export interface RoomEventRecord {
  room: string;
  seq: number;
  /** The event's JSON text, as delivered to clients. */
  json: string;
}

export function encodeMessageEvent(event: MessageEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

export function decodeRoomEvent(value: Buffer | null): RoomEventRecord | null {
  if (!value) return null;
  try {
    const json = value.toString('utf8');
    const event = JSON.parse(json) as Partial<MessageEvent>;
    if (event.type !== 'message' || typeof event.room !== 'string' || !Number.isSafeInteger(event.seq)) return null;
    return { room: event.room, seq: event.seq as number, json };
  } catch {
    return null;
  }
}
