import { md5 } from '@noble/hashes/legacy.js';

/**
 * The Gear table of FastCDC as the `fastcdc` crate derives it: entry `i` is the first 8 bytes
 * (big-endian) of MD5 over 64 bytes all equal to `i`. Only hash bits 0..47 ever reach a mask
 * (every mask up to 16 MiB fits in 48 bits and carries only flow upwards), so the table is kept as
 * two lanes: `low` = bits 0..15, `high` = bits 16..47 (an int32), which plain JS numbers add
 * without overflow. `full` keeps the 64-bit values for reporting the crate's hash at a cut.
 */
export interface GearTable {
  readonly low: Int32Array;
  readonly high: Int32Array;
  readonly full: BigUint64Array;
}

const canonicalGear: BigUint64Array = (() => {
  const table = new BigUint64Array(256);
  const block = new Uint8Array(64);
  for (let i = 0; i < 256; i++) {
    block.fill(i);
    table[i] = new DataView(md5(block).buffer).getBigUint64(0, false);
  }
  return table;
})();

const mask64 = (1n << 64n) - 1n;
const cache = new Map<bigint, GearTable>();

/**
 * The Gear table for `seed` (0 = canonical). Like the crate's `with_level_and_seed`, a seed is
 * XORed into every entry; the crate's shifted table (`GEAR_LS`) needs no separate copy because
 * `(g ^ s) << 1 === (g << 1) ^ (s << 1)`.
 */
export function gearTable(seed = 0n): GearTable {
  const key = BigInt.asUintN(64, seed);
  let table = cache.get(key);
  if (table === undefined) {
    const full = canonicalGear.map((g) => (g ^ key) & mask64);
    const low = new Int32Array(256);
    const high = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      const value = full[i]!;
      low[i] = Number(value & 0xffffn);
      high[i] = Number(BigInt.asIntN(32, value >> 16n));
    }
    table = { low, high, full };
    if (cache.size > 16) cache.clear();
    cache.set(key, table);
  }
  return table;
}
