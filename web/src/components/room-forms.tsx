import { useState } from 'preact/hooks';
import type { ChatStore } from '../chat-store';

/** One small form: a text field and a button, with its error under it. */
function InlineForm({ label, placeholder, action, run }: { label: string; placeholder: string; action: string; run: (value: string) => Promise<void> }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  const id = `form-${action.toLowerCase().replace(/\W+/g, '-')}`;
  const submit = (event: Event) => {
    event.preventDefault();
    if (!value.trim()) return;
    setError(undefined);
    run(value.trim()).then(
      () => setValue(''),
      (failure: unknown) => setError((failure as Error).message),
    );
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <label for={id} class="section-title">
        {label}
      </label>
      <div class="inline-form-row">
        <input id={id} placeholder={placeholder} value={value} onInput={(event) => setValue(event.currentTarget.value)} />
        <button type="submit">{action}</button>
      </div>
      {error && (
        <p class="form-error small" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function RoomForms({ store }: { store: ChatStore }) {
  return (
    <div class="room-forms">
      <InlineForm label="New room" placeholder="Room name" action="Create" run={(name) => store.createRoom(name)} />
      <InlineForm label="Join a room" placeholder="Room id" action="Join" run={(id) => store.joinRoom(id)} />
    </div>
  );
}
