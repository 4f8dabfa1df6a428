import { checkMessageText, type DeleteFrame, type EditFrame, type SendFrame, type UserRef } from '@chat/protocol';
import { ProduceRejectedError, type SendCommand } from '@chat/kafka';
import { ClientError, failpoint, type Logger } from '@chat/runtime';
import type { RoomStore } from '../ports/room-store';
import { requireMembership, type MemberCheck } from '../ports/access';
import type { CommandLog } from '../ports/command-log';
import type { SendRateLimiter } from './send-rate';

/** The retry hint of a send Kafka did not take: about what a broker's leadership takes to move. */
export const UNAVAILABLE_RETRY_MS = 2_000;

/** A send, edit or delete as a transport hands it over. */
export type RoomCommand = Pick<SendCommand, 'kind' | 'room' | 'clientMsgId' | 'text' | 'target'>;

/** The command a frame asks for; the HTTP routes name theirs as the same frames. */
export function roomCommand(frame: SendFrame | EditFrame | DeleteFrame): RoomCommand {
  const { room, clientMsgId } = frame;
  if (frame.type === 'send') return { room, clientMsgId, text: frame.text };
  if (frame.type === 'edit') return { kind: 'message_edited', room, target: frame.target, clientMsgId, text: frame.text };
  return { kind: 'message_deleted', room, target: frame.target, clientMsgId, text: '' };
}

/**
 * The one send path of every transport: access check, then the command log.
 * Resolves once the send is durable in Kafka; from there the messaging
 * service gives it a seq and it reaches every stream of the room.
 */
export class MessageSender {
  constructor(
    private readonly store: Pick<RoomStore, 'messageTarget'>,
    private readonly members: MemberCheck,
    private readonly commands: CommandLog,
    private readonly logger: Logger,
    private readonly rate: SendRateLimiter,
    private readonly onDurable: (kind: string) => void = () => undefined,
  ) {}

  /** Validates, checks access and appends; resolves once the command is durable. */
  async send(sender: UserRef, command: RoomCommand): Promise<void> {
    const { durable } = await this.accept(sender, command);
    await durable;
  }

  /**
   * Resolves as soon as the command is checked and queued for Kafka, with the
   * promise of its durability. Callers that accept one command after another
   * keep their order in the room's partition, without waiting for each ack.
   */
  async accept(sender: UserRef, command: RoomCommand): Promise<{ durable: Promise<void> }> {
    const kind = command.kind ?? 'message';
    if (kind !== 'message_deleted') {
      const problem = checkMessageText(command.text);
      if (problem) throw new ClientError('invalid_input', problem);
    }
    const waitMs = this.rate.take(sender.id);
    if (waitMs > 0) throw new ClientError('rate_limited', `too many messages; retry in ${waitMs} ms`, waitMs);
    requireMembership(await this.members.membership(command.room, sender.id), command.room);
    if (kind !== 'message') {
      const target = await this.store.messageTarget(command.room, command.target!);
      if (!target || target.deleted) throw new ClientError('not_found', `no message ${command.target} in room ${command.room}`);
      if (target.senderId !== sender.id) throw new ClientError('forbidden', 'only the sender can edit or delete a message');
    }
    const durable = this.commands.append({ v: 1, ...command, kind, sender, acceptedAt: new Date().toISOString() }).then(
      () => {
        this.onDurable(kind);
        // Thrown from here, a FailpointError is no append failure: the client gets `internal`, and Kafka has the command.
        failpoint('gateway.before-ack');
      },
      (error: unknown) => {
        if (error instanceof ProduceRejectedError) {
          // Kafka away or slow: the client hears it within the send deadline, and when to try again.
          throw new ClientError('unavailable', `the message could not be stored now (${error.reason}); retry with the same clientMsgId`, UNAVAILABLE_RETRY_MS);
        }
        this.logger.error({ err: error, room: command.room }, 'could not append a command to Kafka');
        throw new ClientError('unavailable', 'the message could not be stored; retry with the same clientMsgId', UNAVAILABLE_RETRY_MS);
      },
    );
    return { durable };
  }
}
