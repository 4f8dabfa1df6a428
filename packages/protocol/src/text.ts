import { MAX_TEXT_CODE_POINTS, MAX_ROOM_NAME_CODE_POINTS } from './limits';

/** Length in Unicode code points (a surrogate pair counts once), as the contract measures text. */
export function codePointLength(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}

// C0 controls other than tab, newline and carriage return, DEL, and C1 controls.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Returns why a message text is unacceptable, or null when it is fine. */
export function checkMessageText(text: string): string | null {
  const length = codePointLength(text);
  if (length < 1 || text.trim().length === 0) return 'text must not be empty';
  if (length > MAX_TEXT_CODE_POINTS) return `text must be at most ${MAX_TEXT_CODE_POINTS} characters`;
  if (FORBIDDEN_CONTROLS.test(text)) return 'text must not contain control characters';
  return null;
}

/** Returns why a room name is unacceptable, or null when it is fine. */
export function checkRoomName(name: string): string | null {
  const length = codePointLength(name.trim());
  if (length < 1) return 'name must not be empty';
  if (length > MAX_ROOM_NAME_CODE_POINTS) return `name must be at most ${MAX_ROOM_NAME_CODE_POINTS} characters`;
  if (FORBIDDEN_CONTROLS.test(name) || /[\r\n\t]/.test(name)) return 'name must not contain control characters';
  return null;
}
