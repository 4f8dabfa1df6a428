import { useState } from 'preact/hooks';
import type { ChatStore } from '../chat-store';

const MAX_CODE_POINTS = 4000;

/** Enter sends, Shift+Enter starts a new line. Sending never waits: the message shows at once as pending. */
export function Composer({ store, roomName }: { store: ChatStore; roomName: string }) {
  const [text, setText] = useState('');
  const length = [...text].length;
  const tooLong = length > MAX_CODE_POINTS;

  const send = () => {
    if (!text.trim() || tooLong) return;
    store.send(text);
    setText('');
  };

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      <textarea
        aria-label={`Message ${roomName}`}
        placeholder={`Message ${roomName}`}
        data-testid="composer"
        rows={Math.min(8, Math.max(1, text.split('\n').length))}
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value);
          if (event.currentTarget.value) store.typing();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send();
          }
        }}
      />
      {tooLong && <span class="form-error small">{length} / {MAX_CODE_POINTS}</span>}
      <button type="submit" class="primary" disabled={!text.trim() || tooLong}>
        Send
      </button>
    </form>
  );
}
