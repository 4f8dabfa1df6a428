import { useEffect, useState } from 'preact/hooks';
import type { ChatState, ChatStore } from '../chat-store';

export function useChatState(store: ChatStore): ChatState {
  const [state, setState] = useState(store.state);
  useEffect(() => store.subscribe(setState), [store]);
  return state;
}
