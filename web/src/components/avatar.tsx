/** A stable colour per user, so that a conversation is easy to follow at a glance. */
function avatarColor(userId: string): string {
  let hash = 0;
  for (const char of userId) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return `hsl(${Math.abs(hash) % 360} 55% 45%)`;
}

export function Avatar({ user, small = false }: { user: { id: string; name: string }; small?: boolean }) {
  return (
    <span class={`avatar${small ? ' small' : ''}`} aria-hidden="true" style={{ background: avatarColor(user.id) }}>
      {user.name.slice(0, 1).toUpperCase()}
    </span>
  );
}
