import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  canonicalUuid,
  checkRoomName,
  CreateRoomBody,
  DEFAULT_HISTORY_LIMIT,
  DirectMessageBody,
  EditMessageBody,
  HistoryQuery,
  MessageParams,
  type MembershipEvent,
  ReadBody,
  RoomParams,
  SendMessageBody,
  serverDeleteKey,
} from '@chat/protocol';
import { ClientError } from '@chat/runtime';
import type { GatewayContext } from '../context';
import { requireMembership } from '../ports/access';
import { authenticated, principalOf } from './authenticated';
import { roomCommand } from '../session/message-sender';

export async function roomRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }): Promise<void> {
  authenticated(app, ctx.auth, ctx.limits);
  app.addHook('preHandler', async (request: FastifyRequest) => {
    // Validated by now; from here on the room id is the one Postgres, Kafka and the streams key by.
    const params = request.params as { roomId?: string };
    if (params.roomId !== undefined) params.roomId = canonicalUuid(params.roomId);
  });

  /**
   * Hands a join or leave, stored by now, to every gateway. Best effort, and not waited for: the change stands once
   * stored (the entry is in the room's log, where every stream of the room meets it as a hole and reads it), so the
   * request answers without waiting out a Kafka outage; a publish that fails is logged.
   */
  function publish(entries: readonly MembershipEvent[]): void {
    for (const entry of entries) {
      // Here at once, on other gateways with the feed: a membership remembered before the change holds no longer.
      ctx.memberCache.forget(entry.room, entry.user.id);
      ctx.memberships.publish(entry).catch((error: unknown) =>
        ctx.logger.warn({ err: error, room: entry.room, seq: entry.seq, type: entry.type }, 'a membership entry was not published; streams read it from the log'),
      );
    }
  }

  /** A member of an existing room, or the contract's 404/403. */
  async function requireMember(request: FastifyRequest, roomId: string): Promise<void> {
    requireMembership((await ctx.store.access(roomId, principalOf(request).user.id)).membership, roomId);
  }

  app.get('/api/rooms', async (request) => ({ rooms: await ctx.store.listRooms(principalOf(request).user.id) }));

  app.post<{ Body: CreateRoomBody }>('/api/rooms', { schema: { body: CreateRoomBody } }, async (request, reply) => {
    const name = request.body.name.trim();
    const problem = checkRoomName(name);
    if (problem) throw new ClientError('invalid_input', problem);
    const { room, joined } = await ctx.store.createRoom(name, principalOf(request).user);
    publish([joined]);
    return reply.status(201).send({ room });
  });

  app.post<{ Params: RoomParams }>('/api/rooms/:roomId/join', { schema: { params: RoomParams } }, async (request) => {
    const joined = await ctx.store.joinRoom(request.params.roomId, principalOf(request).user);
    if (!joined) throw new ClientError('not_found', `unknown room ${request.params.roomId}`);
    if (joined.kind === 'dm') await requireMember(request, joined.room.id);
    if (joined.joined) publish([joined.joined]);
    return { room: joined.room };
  });

  app.get<{ Params: RoomParams; Querystring: HistoryQuery }>(
    '/api/rooms/:roomId/messages',
    { schema: { params: RoomParams, querystring: HistoryQuery } },
    async (request) => {
      const { roomId } = request.params;
      const { after, before, limit = DEFAULT_HISTORY_LIMIT } = request.query;
      if (after !== undefined && before !== undefined) throw new ClientError('invalid_input', 'give after or before, not both');
      await requireMember(request, roomId);
      const messages =
        after !== undefined
          ? await ctx.store.messagesAfter(roomId, after, limit)
          : before !== undefined
            ? await ctx.store.messagesBefore(roomId, before, limit)
            : await ctx.store.latestMessages(roomId, limit);
      return { messages };
    },
  );

  app.post<{ Params: RoomParams; Body: SendMessageBody }>(
    '/api/rooms/:roomId/messages',
    { schema: { params: RoomParams, body: SendMessageBody } },
    async (request, reply) => {
      const { clientMsgId, text } = request.body;
      await ctx.sender.send(principalOf(request).user, roomCommand({ type: 'send', room: request.params.roomId, clientMsgId, text }));
      return reply.status(202).send({ clientMsgId });
    },
  );

  app.patch<{ Params: MessageParams; Body: EditMessageBody }>(
    '/api/rooms/:roomId/messages/:seq',
    { schema: { params: MessageParams, body: EditMessageBody } },
    async (request, reply) => {
      const { roomId, seq } = request.params;
      const { clientMsgId, text } = request.body;
      await ctx.sender.send(principalOf(request).user, roomCommand({ type: 'edit', room: roomId, target: seq, clientMsgId, text }));
      return reply.status(202).send({ clientMsgId });
    },
  );

  app.delete<{ Params: MessageParams }>('/api/rooms/:roomId/messages/:seq', { schema: { params: MessageParams } }, async (request, reply) => {
    const { roomId, seq } = request.params;
    // Deleting is idempotent per message: the same key for every retry, in the server's own namespace.
    const clientMsgId = serverDeleteKey(seq);
    await ctx.sender.send(principalOf(request).user, roomCommand({ type: 'delete', room: roomId, target: seq, clientMsgId }));
    return reply.status(202).send({ clientMsgId });
  });

  app.get<{ Params: RoomParams }>('/api/rooms/:roomId/presence', { schema: { params: RoomParams } }, async (request) => {
    await requireMember(request, request.params.roomId);
    const members = await ctx.store.members(request.params.roomId);
    return { online: members.filter((member) => ctx.presence.isOnline(member.id)) };
  });

  app.post<{ Params: RoomParams }>('/api/rooms/:roomId/typing', { schema: { params: RoomParams } }, async (request, reply) => {
    await ctx.typing.notify(principalOf(request).user, request.params.roomId);
    return reply.status(202).send({});
  });

  app.post<{ Params: RoomParams }>('/api/rooms/:roomId/leave', { schema: { params: RoomParams } }, async (request) => {
    const { roomId } = request.params;
    const user = principalOf(request).user;
    const left = await ctx.store.leaveRoom(roomId, user);
    if (!left) await requireMember(request, roomId);
    // At once here; other gateways forget it when the member_left entry reaches them (or a stream there reads it).
    ctx.memberCache.forget(roomId, user.id);
    if (left) publish([left]);
    return { left: true };
  });

  app.post<{ Params: RoomParams; Body: ReadBody }>(
    '/api/rooms/:roomId/read',
    { schema: { params: RoomParams, body: ReadBody } },
    async (request) => {
      await requireMember(request, request.params.roomId);
      return ctx.store.markRead(request.params.roomId, principalOf(request).user.id, request.body.seq);
    },
  );

  app.post<{ Body: DirectMessageBody }>('/api/dms', { schema: { body: DirectMessageBody } }, async (request, reply) => {
    const user = principalOf(request).user;
    const otherId = canonicalUuid(request.body.userId);
    if (otherId === user.id) throw new ClientError('invalid_input', 'a direct conversation needs another user');
    const opened = await ctx.store.openDirectRoom(user, otherId);
    if (!opened) throw new ClientError('not_found', `unknown user ${otherId}`);
    publish(opened.joined);
    return reply.status(opened.created ? 201 : 200).send({ room: opened.room });
  });
}
