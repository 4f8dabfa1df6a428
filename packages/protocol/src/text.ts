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

/**
 * Length in code points, as codePointLength, in the same single pass that finds a lone surrogate: -1 then. A string
 * with none has one UTF-8 encoding, which Postgres stores as it is.
 */
export function wellFormedLength(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++, length++) {
    const unit = value.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit > 0xdbff || i + 1 >= value.length) return -1;
    const next = value.charCodeAt(i + 1);
    if (next < 0xdc00 || next > 0xdfff) return -1;
    i++;
  }
  return length;
}

export const isWellFormed = (value: string): boolean => wellFormedLength(value) >= 0;

/** Returns why a message text is unacceptable, or null when it is fine. */
export function checkMessageText(text: string): string | null {
  const length = wellFormedLength(text);
  if (length < 0) return 'text must be well-formed Unicode (no lone surrogates)';
  if (length < 1 || text.trim().length === 0) return 'text must not be empty';
  if (length > MAX_TEXT_CODE_POINTS) return `text must be at most ${MAX_TEXT_CODE_POINTS} characters`;
  if (FORBIDDEN_CONTROLS.test(text)) return 'text must not contain control characters';
  return null;
}

export const MAX_DISPLAY_NAME_CODE_POINTS = 64;
// Printable ASCII, trimmed, at most 64: nearly every name, checked without the general path's copies.
const PLAIN_NAME = /^[!-~](?:[ -~]{0,62}[!-~])?$/;
// eslint-disable-next-line no-control-regex
const NAME_UNWANTED = /[\u0000-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A display name as an identity provider's token gives it, made safe to store and show: control characters and lone
 * surrogates removed, white space trimmed, at most 64 code points (never half of a pair). Empty means unusable.
 */
export function sanitizeDisplayName(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  const cleaned = name.replace(NAME_UNWANTED, '').trim();
  return Array.from(cleaned).slice(0, MAX_DISPLAY_NAME_CODE_POINTS).join('').trim();
}

/** Returns why a stored display name is unacceptable (a record from another producer), or null when it is fine. */
export function checkDisplayName(name: string): string | null {
  return name.length > 0 && sanitizeDisplayName(name) === name ? null : 'name must be 1-64 characters, trimmed, without controls';
}

/** Returns why a room name is unacceptable, or null when it is fine. */
export function checkRoomName(name: string): string | null {
  const length = codePointLength(name.trim());
  if (length < 1) return 'name must not be empty';
  if (length > MAX_ROOM_NAME_CODE_POINTS) return `name must be at most ${MAX_ROOM_NAME_CODE_POINTS} characters`;
  if (FORBIDDEN_CONTROLS.test(name) || /[\r\n\t]/.test(name)) return 'name must not contain control characters';
  if (!isWellFormed(name)) return 'name must be well-formed Unicode (no lone surrogates)';
  return null;
}
