/**
 * Stream cursors: how far a client got in each room of its stream.
 *
 * Opaque to clients. Encoded compactly because it travels on every event
 * (SSE `id:` lines, WebSocket frames) and in URLs: version byte 1, then per room
 * the 16 bytes of its UUID and its last seq as an unsigned LEB128 varint, in
 * base64url without padding. Pure code with no Node APIs: the SDK and the web
 * app import it too.
 */

export type CursorPositions = ReadonlyMap<string, number>;

const VERSION = 1;
/** Bounds the work a hostile cursor can cause; far above any real subscription. */
export const MAX_CURSOR_ROOMS = 1024;

export class CursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorError';
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

function fromBase64Url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new CursorError('cursor has an impossible length');
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? LOOKUP[code]! : -1;
    if (digit < 0) throw new CursorError('cursor is not base64url');
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[j++] = (value >> bits) & 0xff;
    }
  }
  return bytes.subarray(0, j);
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Runs for every event delivered to every stream, so it walks char codes: no regex, no substrings. */
function uuidToBytes(uuid: string, out: Uint8Array, offset: number): void {
  let j = offset;
  let high = -1;
  for (let i = 0; i < uuid.length; i++) {
    const code = uuid.charCodeAt(i);
    if (code === 45) continue; // '-'
    const digit = hexDigit(code);
    if (digit < 0 || j === offset + 16) throw new CursorError(`not a room id: ${uuid}`);
    if (high < 0) high = digit;
    else {
      out[j++] = (high << 4) | digit;
      high = -1;
    }
  }
  if (j !== offset + 16 || high >= 0) throw new CursorError(`not a room id: ${uuid}`);
}

function bytesToUuid(bytes: Uint8Array, offset: number): string {
  let hex = '';
  for (let i = 0; i < 16; i++) hex += bytes[offset + i]!.toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function encodeCursor(positions: CursorPositions): string {
  // 16 bytes of id plus at most 8 varint bytes for any safe integer seq.
  const buffer = new Uint8Array(1 + positions.size * 24);
  buffer[0] = VERSION;
  let offset = 1;
  for (const [room, seq] of positions) {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new CursorError(`bad seq ${seq} for room ${room}`);
    uuidToBytes(room, buffer, offset);
    offset += 16;
    let rest = seq;
    while (rest >= 0x80) {
      buffer[offset++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    buffer[offset++] = rest;
  }
  return toBase64Url(buffer.subarray(0, offset));
}

export function decodeCursor(cursor: string): Map<string, number> {
  if (cursor.length === 0) throw new CursorError('cursor is empty');
  if (cursor.length > MAX_CURSOR_ROOMS * 32) throw new CursorError('cursor is too long');
  const bytes = fromBase64Url(cursor);
  if (bytes[0] !== VERSION) throw new CursorError('unknown cursor version');
  const positions = new Map<string, number>();
  let offset = 1;
  while (offset < bytes.length) {
    if (offset + 17 > bytes.length) throw new CursorError('cursor is truncated');
    const room = bytesToUuid(bytes, offset);
    offset += 16;
    let seq = 0;
    let scale = 1;
    for (;;) {
      if (offset >= bytes.length) throw new CursorError('cursor is truncated');
      const byte = bytes[offset++]!;
      seq += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new CursorError('cursor seq is too large');
    }
    // Past 2^53 a seq no longer is itself: it would not encode again, nor compare or query as the client meant.
    if (seq > Number.MAX_SAFE_INTEGER) throw new CursorError('cursor seq is too large');
    if (positions.has(room)) throw new CursorError('cursor names a room twice');
    positions.set(room, seq);
    if (positions.size > MAX_CURSOR_ROOMS) throw new CursorError('cursor has too many rooms');
  }
  return positions;
}
