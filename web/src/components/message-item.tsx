import type { Message, UserRef } from '@chat/protocol';
import { useState } from 'preact/hooks';
import type { ChatStore, PendingMessage } from '../chat-store';
import { Avatar } from './avatar';
import { MessageText } from './message-text';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function MessageHeader({ sender, sentAt }: { sender: UserRef; sentAt?: string }) {
  const date = sentAt ? new Date(sentAt) : undefined;
  return (
    <div class="message-header">
      <Avatar user={sender} />
      <span class="sender">{sender.name}</span>
      {date && (
        <time dateTime={sentAt} title={date.toLocaleString()}>
          {timeFormat.format(date)}
        </time>
      )}
    </div>
  );
}

function EditForm({ message, store, onDone }: { message: Message; store: ChatStore; onDone: () => void }) {
  const [text, setText] = useState(message.text);
  const save = () => {
    if (text.trim() && text !== message.text) store.edit(message.seq, text);
    onDone();
  };
  return (
    <form
      class="edit-form"
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <textarea
        aria-label="New text of the message"
        value={text}
        autoFocus
        rows={Math.min(6, text.split('\n').length)}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') onDone();
          if (event.key === 'Enter' && !event.shiftKey) {
            event.preventDefault();
            save();
          }
        }}
      />
      <div class="edit-actions">
        <button type="submit" class="primary small">
          Save
        </button>
        <button type="button" class="small" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function MessageItem({ message, mine, showHeader, store }: { message: Message; mine: boolean; showHeader: boolean; store: ChatStore }) {
  const [editing, setEditing] = useState(false);
  return (
    <li class={`message${mine ? ' mine' : ''}${showHeader ? ' first' : ''}`} data-seq={message.seq} data-testid="message">
      {showHeader && <MessageHeader sender={message.sender} sentAt={message.sentAt} />}
      {editing ? (
        <EditForm message={message} store={store} onDone={() => setEditing(false)} />
      ) : message.deleted ? (
        <p class="message-text deleted">Message deleted</p>
      ) : (
        <p class="message-text" data-testid="message-text">
          <MessageText text={message.text} />
          {message.editedAt && <span class="edited"> (edited)</span>}
        </p>
      )}
      {mine && !message.deleted && !editing && (
        <div class="message-actions">
          <button type="button" class="small" onClick={() => setEditing(true)} aria-label="Edit message">
            Edit
          </button>
          <button type="button" class="small danger" onClick={() => store.remove(message.seq)} aria-label="Delete message">
            Delete
          </button>
        </div>
      )}
    </li>
  );
}

const PENDING_LABELS: Record<PendingMessage['state'], string> = { sending: 'Sending…', sent: 'Sent', failed: 'Not sent' };

/** An own message not yet back from the server: shown at once, confirmed by the ack, retried by hand if refused. */
export function PendingItem({ pending, me, showHeader, store }: { pending: PendingMessage; me: UserRef; showHeader: boolean; store: ChatStore }) {
  return (
    <li class={`message mine pending ${pending.state}${showHeader ? ' first' : ''}`} data-testid="pending-message" data-state={pending.state}>
      {showHeader && <MessageHeader sender={me} />}
      <p class="message-text">
        <MessageText text={pending.text} />
      </p>
      <div class="pending-state">
        <span>{PENDING_LABELS[pending.state]}</span>
        {pending.error && <span class="muted"> — {pending.error}</span>}
        {pending.state === 'failed' && (
          <>
            <button type="button" class="link-button small" onClick={() => store.retry(pending.clientMsgId)}>
              Retry
            </button>
            <button type="button" class="link-button small" onClick={() => store.discard(pending.clientMsgId)}>
              Discard
            </button>
          </>
        )}
      </div>
    </li>
  );
}
