import type { RoomSummary } from '@chat/protocol';
import { useState } from 'preact/hooks';
import type { ChatState, ChatStore } from '../chat-store';
import { emptyLog } from '../room-log';
import { Composer } from './composer';
import { MessageList } from './message-list';
import { roomTitle } from './sidebar';

function TypingLine({ names }: { names: string[] }) {
  const text =
    names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : 'Several people are typing…';
  return (
    <div class="typing-line" aria-live="polite" data-testid="typing">
      {text}
    </div>
  );
}

export function RoomView({ store, state, room }: { store: ChatStore; state: ChatState; room: RoomSummary }) {
  const [copied, setCopied] = useState(false);
  const title = roomTitle(room, state.me.name);
  const typing = [...(state.typing.get(room.id)?.values() ?? [])].map((entry) => entry.name);
  const copyId = () => {
    // Without clipboard access there is nothing to copy to; the id stays in the button's title.
    (navigator.clipboard?.writeText(room.id) ?? Promise.resolve()).then(
      () => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      },
      () => undefined,
    );
  };

  return (
    <>
      <header class="room-header">
        <h1 data-testid="room-title">
          <span class="room-hash" aria-hidden="true">
            {room.kind === 'dm' ? '@' : '#'}
          </span>
          {title}
        </h1>
        {room.kind !== 'dm' && (
          <button type="button" class="small" onClick={copyId} title={room.id}>
            {copied ? 'Copied' : 'Copy room id'}
          </button>
        )}
      </header>
      <MessageList store={store} state={state} roomId={room.id} log={state.logs.get(room.id) ?? emptyLog()} />
      <TypingLine names={typing} />
      <Composer store={store} roomName={room.kind === 'dm' ? title : `#${title}`} />
    </>
  );
}
