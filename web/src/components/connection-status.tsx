import type { ConnectionStatus as Status } from '@chat/client';
import { useEffect, useState } from 'preact/hooks';
import { TRANSPORT_LABELS } from '../transport-choice';

function describe(status: Status, now: number): string {
  const transport = status.transport ? TRANSPORT_LABELS[status.transport] : '';
  const seconds = status.retryAt ? Math.max(0, Math.ceil((status.retryAt - now) / 1000)) : 0;
  switch (status.state) {
    case 'open':
      return `Connected · ${transport}`;
    case 'connecting':
      return `Connecting · ${transport}`;
    case 'reconnecting':
      return seconds > 0 ? `Reconnecting in ${seconds}s · ${transport}` : `Reconnecting… · ${transport}`;
    case 'offline':
      return 'Offline · messages will be sent when you are back';
    case 'closed':
      return status.reason ? `Disconnected: ${status.reason}` : 'Disconnected';
  }
}

/** Always on screen: the transport in use, a reconnect countdown, or offline. */
export function ConnectionStatus({ status }: { status: Status }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!status.retryAt) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [status.retryAt]);
  return (
    <div class={`connection ${status.state}`} role="status" data-testid="connection-status" data-state={status.state} data-transport={status.transport ?? ''}>
      <span class="connection-dot" aria-hidden="true" />
      <span>{describe(status, now)}</span>
    </div>
  );
}
