import { useState } from 'preact/hooks';
import { ChatApi, type Session } from '../api';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    // catch after then: a failure of onSignedIn itself is shown too, as the try/catch did.
    ChatApi.login(username.trim()).then(onSignedIn).catch((failure: unknown) => {
      setError((failure as Error).message);
      setBusy(false);
    });
  };

  return (
    <main class="sign-in">
      <form class="sign-in-card" onSubmit={submit}>
        <h1>
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Chat
        </h1>
        <p class="muted">Development sign-in: pick any name.</p>
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          autoFocus
          required
          maxLength={32}
          pattern="[A-Za-z0-9_.\-]+"
          title="1–32 letters, digits, _ . or -"
          value={username}
          onInput={(event) => setUsername(event.currentTarget.value)}
        />
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
