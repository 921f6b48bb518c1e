// Catalogs carry every chunk id as hex, so these run once per chunk of every file an incremental
// backup walks: table lookups and char codes, no per-byte strings or parseInt.
const hexDigits = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += hexDigits[byte];
  return out;
}

/** Value of one hex digit's char code (either case), or -1. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** True when `hex` is hex (either case) of exactly `byteLength` bytes. */
export function isHex(hex: unknown, byteLength: number): hex is string {
  if (typeof hex !== 'string' || hex.length !== byteLength * 2) return false;
  for (let i = 0; i < hex.length; i++) if (hexValue(hex.charCodeAt(i)) < 0) return false;
  return true;
}

/** Bytes of the hex string `hex`, or `undefined` when it is not hex of the expected byte length. */
export function fromHex(hex: string, byteLength?: number): Uint8Array | undefined {
  if (typeof hex !== 'string' || hex.length % 2 !== 0) return undefined;
  if (byteLength !== undefined && hex.length !== byteLength * 2) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = hexValue(hex.charCodeAt(2 * i));
    const low = hexValue(hex.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) return undefined;
    out[i] = (high << 4) | low;
  }
  return out;
}

/** Constant-time equality of two byte arrays (for MACs and key checks). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
