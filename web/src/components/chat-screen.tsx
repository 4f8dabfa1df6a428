import { useEffect, useMemo } from 'preact/hooks';
import type { Session } from '../api';
import { ChatStore } from '../chat-store';
import { transportsFromQuery } from '../transport-choice';
import { OnlinePanel } from './online-panel';
import { RoomView } from './room-view';
import { Sidebar } from './sidebar';
import { useChatState } from './use-chat-state';

export function ChatScreen({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const store = useMemo(() => new ChatStore(session, transportsFromQuery(location.search)), [session]);
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  const state = useChatState(store);
  const active = state.rooms.find((room) => room.id === state.activeRoomId);

  return (
    <div class="chat">
      <Sidebar store={store} state={state} onSignOut={onSignOut} />
      <main class="room" aria-label={active ? `Room ${active.name}` : 'No room'}>
        {active ? (
          <RoomView key={active.id} store={store} state={state} room={active} />
        ) : (
          <div class="empty-room">
            <h2>Welcome, {state.me.name}</h2>
            <p class="muted">Create a room or join one by its id to start chatting.</p>
          </div>
        )}
      </main>
      {active && <OnlinePanel store={store} state={state} roomId={active.id} />}
      {state.notice && (
        <div class="notice" role="alert">
          <span>{state.notice}</span>
          <button type="button" class="ghost" onClick={() => store.dismissNotice()} aria-label="Dismiss">
            ✕
          </button>
        </div>
      )}
    </div>
  );
}
