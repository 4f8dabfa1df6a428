import { useState } from 'preact/hooks';
import { ChatApi, type Session } from './api';
import { ChatScreen } from './components/chat-screen';
import { SignIn } from './components/sign-in';

const STORAGE_KEY = 'chat.session';

function storedSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

/** Signed out: the sign-in form; signed in: the chat. The session lives as long as the tab. */
export function App() {
  const [session, setSession] = useState(storedSession);
  if (!session) {
    return (
      <SignIn
        onSignedIn={(signedIn) => {
          sessionStorage.setItem(STORAGE_KEY, JSON.stringify(signedIn));
          setSession(signedIn);
        }}
      />
    );
  }
  return (
    <ChatScreen
      session={session}
      onSignOut={() => {
        // Best effort: the tab forgets the token whatever the server says (an expired one is already void).
        new ChatApi(session.token).signOut().catch(() => undefined);
        sessionStorage.removeItem(STORAGE_KEY);
        setSession(undefined);
      }}
    />
  );
}
