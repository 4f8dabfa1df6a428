import type { MembershipEvent, Message } from '@chat/protocol';
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { ChatState, ChatStore } from '../chat-store';
import { hasOlder, type RoomLog } from '../room-log';
import { MessageItem, PendingItem } from './message-item';

const NEAR_EDGE_PX = 120;
const GROUP_WITHIN_MS = 5 * 60_000;

/** A message starts a group of its own after a line that is not a message, or another sender, or a pause. */
function startsGroup(message: Message, previous: Message | MembershipEvent | undefined): boolean {
  if (!previous || !('sender' in previous) || previous.sender.id !== message.sender.id) return true;
  return Date.parse(message.sentAt) - Date.parse(previous.sentAt) > GROUP_WITHIN_MS;
}

/** The room's messages and, in a group room, its joins and leaves, in seq order. */
function itemsOf(log: RoomLog, withMemberships: boolean): Array<Message | MembershipEvent> {
  if (!withMemberships || log.memberships.length === 0) return log.messages;
  return [...log.messages, ...log.memberships].sort((a, b) => a.seq - b.seq);
}

function MembershipLine({ entry }: { entry: MembershipEvent }) {
  return (
    <li class="membership-line" data-seq={entry.seq} data-testid="membership-line">
      {entry.user.name} {entry.type === 'member_joined' ? 'joined' : 'left'}
    </li>
  );
}

/**
 * The room's messages, oldest first. Scrolling near the top loads the page before
 * the oldest one, keeping what is on screen in place; new messages scroll into
 * view only when the reader is already at the bottom.
 */
export function MessageList({ store, state, roomId, log }: { store: ChatStore; state: ChatState; roomId: string; log: RoomLog }) {
  const scroller = useRef<HTMLDivElement>(null);
  const fromBottom = useRef(0);
  const firstSeq = useRef<number | undefined>(undefined);
  const pending = state.pending.filter((p) => p.room === roomId);
  const older = hasOlder(log);
  const loaded = log.oldestSeq !== undefined;
  const lastSender = log.messages.at(-1)?.sender.id;
  // Two people opening a conversation are no news in it.
  const items = itemsOf(log, state.rooms.find((room) => room.id === roomId)?.kind !== 'dm');

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const newFirst = log.messages[0]?.seq;
    const prepended = firstSeq.current !== undefined && newFirst !== undefined && newFirst < firstSeq.current;
    firstSeq.current = newFirst;
    if (prepended) element.scrollTop = element.scrollHeight - element.clientHeight - fromBottom.current;
    else if (fromBottom.current < NEAR_EDGE_PX) element.scrollTop = element.scrollHeight;
    fromBottom.current = element.scrollHeight - element.clientHeight - element.scrollTop;
    // A page that does not fill the screen gives nothing to scroll: fetch the next one.
    if (loaded && older && !state.loadingOlder && element.scrollHeight <= element.clientHeight) store.attempt(store.loadOlder());
  }, [log, pending.length, loaded, older, state.loadingOlder, store]);

  const onScroll = () => {
    const element = scroller.current!;
    fromBottom.current = element.scrollHeight - element.clientHeight - element.scrollTop;
    if (element.scrollTop < NEAR_EDGE_PX && loaded && older && !state.loadingOlder) store.attempt(store.loadOlder());
  };

  return (
    // The scroller is the log (ARIA in HTML allows no `log` role on an <ol>); the list inside stays a list.
    <div class="message-scroller" role="log" aria-label="Messages" ref={scroller} onScroll={onScroll} data-testid="message-scroller">
      <div class="history-edge" aria-live="polite">
        {!loaded || state.loadingOlder ? 'Loading…' : older ? '' : 'This is the beginning of the room.'}
      </div>
      <ol class="message-list" data-testid="message-list">
        {items.map((item, index) =>
          'sender' in item ? (
            <MessageItem
              key={item.seq}
              message={item}
              mine={item.sender.id === state.me.id}
              showHeader={startsGroup(item, items[index - 1])}
              store={store}
            />
          ) : (
            <MembershipLine key={item.seq} entry={item} />
          ),
        )}
        {pending.map((p, index) => (
          <PendingItem key={p.clientMsgId} pending={p} me={state.me} showHeader={index === 0 && lastSender !== state.me.id} store={store} />
        ))}
      </ol>
    </div>
  );
}
