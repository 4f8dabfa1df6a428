import type { RoomSummary } from '@chat/protocol';
import type { ChatState, ChatStore } from '../chat-store';
import { Avatar } from './avatar';
import { ConnectionStatus } from './connection-status';
import { RoomForms } from './room-forms';

/** A direct room is named after both people; show the other one. */
export function roomTitle(room: RoomSummary, myName: string): string {
  if (room.kind !== 'dm') return room.name;
  return room.name.split(', ').filter((name) => name !== myName).join(', ') || room.name;
}

function RoomEntry({ room, state, store }: { room: RoomSummary; state: ChatState; store: ChatStore }) {
  const active = room.id === state.activeRoomId;
  const someoneOnline = (state.online.get(room.id) ?? []).some((user) => user.id !== state.me.id);
  return (
    <li>
      <button
        type="button"
        class={`room-entry${active ? ' active' : ''}${room.unread > 0 ? ' has-unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        data-room-id={room.id}
        onClick={() => store.select(room.id)}
      >
        {room.kind === 'dm' ? (
          <span class={`presence-dot ${someoneOnline ? 'online' : 'offline'}`} aria-label={someoneOnline ? 'online' : 'offline'} />
        ) : (
          <span class="room-hash" aria-hidden="true">
            #
          </span>
        )}
        <span class="room-name">{roomTitle(room, state.me.name)}</span>
        {room.unread > 0 && (
          <span class="unread" aria-label={`${room.unread} unread`} data-testid="unread">
            {room.unread}
          </span>
        )}
      </button>
    </li>
  );
}

export function Sidebar({ store, state, onSignOut }: { store: ChatStore; state: ChatState; onSignOut: () => void }) {
  const groups = state.rooms.filter((room) => room.kind !== 'dm');
  const directs = state.rooms.filter((room) => room.kind === 'dm');
  return (
    <nav class="sidebar" aria-label="Rooms">
      <header class="sidebar-header">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Chat
        </div>
        <div class="me">
          <Avatar user={state.me} small />
          <span data-testid="me">{state.me.name}</span>
          <button type="button" class="link-button small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
        <ConnectionStatus status={state.status} />
      </header>
      <h2 class="section-title">Rooms</h2>
      <ul class="room-list" data-testid="room-list">
        {groups.map((room) => (
          <RoomEntry key={room.id} room={room} state={state} store={store} />
        ))}
        {groups.length === 0 && <li class="muted small empty-note">No rooms yet</li>}
      </ul>
      <h2 class="section-title">Direct messages</h2>
      <ul class="room-list" data-testid="dm-list">
        {directs.map((room) => (
          <RoomEntry key={room.id} room={room} state={state} store={store} />
        ))}
        {directs.length === 0 && <li class="muted small empty-note">Open one from a room's online list</li>}
      </ul>
      <RoomForms store={store} />
    </nav>
  );
}
