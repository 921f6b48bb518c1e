import { nodeZlib } from './runtime.ts';

/** CRC-32 (IEEE 802.3, the zlib/PNG polynomial), reflected, table-driven: the portable path. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb8_8320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Portable CRC-32 of `bytes`, continuing from `crc` (0 to start). */
export function crc32Portable(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = nodeZlib?.crc32;

/**
 * CRC-32 of `bytes`, continuing from `crc` (0 to start). Uses `zlib.crc32` where the runtime has it
 * (about 20× faster than the table), the portable table elsewhere; both give the same value.
 */
export const crc32: (bytes: Uint8Array, crc?: number) => number =
  native === undefined ? crc32Portable : (bytes, crc = 0) => native(bytes, crc);
