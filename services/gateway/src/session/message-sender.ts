import { checkMessageText, type UserRef } from '@chat/protocol';
import { ClientError, type Logger } from '@chat/runtime';
import type { RoomStore } from '../db/room-store';
import type { CommandLog } from '../kafka/gateway-producer';
import type { SendRateLimiter } from './send-rate';

/**
 * The one send path of every transport: access check, then the command log.
 * Resolves once the send is durable in Kafka; from there the messaging
 * service gives it a seq and it reaches every stream of the room.
 */
export class MessageSender {
  constructor(
    private readonly store: RoomStore,
    private readonly commands: CommandLog,
    private readonly logger: Logger,
    private readonly rate: SendRateLimiter,
  ) {}

  /** Validates, checks access and appends; resolves once the send is durable. */
  async send(sender: UserRef, room: string, clientMsgId: string, text: string): Promise<void> {
    const { durable } = await this.accept(sender, room, clientMsgId, text);
    await durable;
  }

  /**
   * Resolves as soon as the send is checked and queued for Kafka, with the
   * promise of its durability. Callers that accept one send after another
   * keep their order in the room's partition, without waiting for each ack.
   */
  async accept(sender: UserRef, room: string, clientMsgId: string, text: string): Promise<{ durable: Promise<void> }> {
    const problem = checkMessageText(text);
    if (problem) throw new ClientError('invalid_input', problem);
    const waitMs = this.rate.take(sender.id);
    if (waitMs > 0) throw new ClientError('rate_limited', `too many messages; retry in ${waitMs} ms`, waitMs);
    const { membership } = await this.store.access(room, sender.id);
    if (membership === 'no_room') throw new ClientError('not_found', `unknown room ${room}`);
    if (membership === 'not_member') throw new ClientError('forbidden', `not a member of room ${room}`);
    const durable = this.commands
      .append({ v: 1, room, clientMsgId, text, sender, acceptedAt: new Date().toISOString() })
      .catch((error: unknown) => {
        this.logger.error({ err: error, room }, 'could not append a send to Kafka');
        throw new ClientError('unavailable', 'the message could not be stored; retry with the same clientMsgId');
      });
    return { durable };
  }
}
