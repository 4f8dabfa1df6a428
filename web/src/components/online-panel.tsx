import type { ChatState, ChatStore } from '../chat-store';

export function OnlinePanel({ store, state, roomId }: { store: ChatStore; state: ChatState; roomId: string }) {
  const online = [...(state.online.get(roomId) ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  // Without a connection no presence news arrives: say that the list may be out of date.
  const stale = state.status.state !== 'open';
  return (
    <aside class={`online-panel${stale ? ' stale' : ''}`} aria-label="Online in this room">
      <h2 class="section-title">Online · {online.length}</h2>
      {stale && <p class="muted small">As of the last connection</p>}
      <ul class="online-list" data-testid="online-list">
        {online.map((user) => (
          <li key={user.id}>
            <span class="presence-dot online" aria-hidden="true" />
            <span class="online-name">{user.name}</span>
            {user.id === state.me.id ? (
              <span class="muted small">you</span>
            ) : (
              <button type="button" class="link-button small" onClick={() => store.openDirectRoom(user.id)} aria-label={`Message ${user.name} directly`}>
                Message
              </button>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}
