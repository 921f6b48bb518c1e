import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { sha256 } from '../crypto/primitives.ts';
import { DedupIndex } from './index.ts';

const id = (n: number) => sha256(new Uint8Array(new Uint32Array([n]).buffer));

describe('DedupIndex', () => {
  it('behaves like a set of ids, through growth', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 2000 }), (numbers) => {
        const index = new DedupIndex();
        const model = new Set<string>();
        for (const n of numbers) {
          expect(index.add(id(n))).toBe(!model.has(toHex(id(n))));
          model.add(toHex(id(n)));
        }
        expect(index.size).toBe(model.size);
        for (let n = 0; n <= 3000; n += 7) expect(index.has(id(n))).toBe(model.has(toHex(id(n))));
        expect(new Set([...index.ids()].map(toHex))).toEqual(model);
      }),
      { numRuns: 30 },
    );
  });

  it('stores the all-zero id too, and rejects ids of the wrong length', () => {
    const index = new DedupIndex();
    expect(index.has(new Uint8Array(32))).toBe(false);
    expect(index.add(new Uint8Array(32))).toBe(true);
    expect(index.add(new Uint8Array(32))).toBe(false);
    expect(index.has(new Uint8Array(32))).toBe(true);
    expect(index.size).toBe(1);
    expect(() => index.add(new Uint8Array(31))).toThrow(TypeError);
  });

  it('needs at most 64 bytes per id at scale', () => {
    const index = new DedupIndex();
    for (let n = 0; n < 200_000; n++) {
      index.add(id(n));
      if (n > 1000 && n % 997 === 0) expect(index.byteLength / index.size).toBeLessThanOrEqual(64);
    }
  });

  it('persists and reloads', () => {
    const index = new DedupIndex();
    for (let n = 0; n < 500; n++) index.add(id(n));
    index.add(new Uint8Array(32));
    const bytes = index.serialize();
    expect(bytes.length).toBe(16 + 501 * 32 + 32);
    const loaded = DedupIndex.deserialize(bytes);
    expect(loaded.size).toBe(501);
    for (let n = 0; n < 500; n++) expect(loaded.has(id(n))).toBe(true);
    expect(loaded.has(new Uint8Array(32))).toBe(true);
    expect(loaded.has(id(500))).toBe(false);
  });

  it('rejects truncated, altered, foreign and future-version files with INDEX_CORRUPT', () => {
    const index = new DedupIndex();
    for (let n = 0; n < 10; n++) index.add(id(n));
    const bytes = index.serialize();
    const altered = bytes.slice();
    altered[40]! ^= 1;
    const future = bytes.slice();
    future[4] = 2;
    const hugeCount = bytes.slice();
    new DataView(hugeCount.buffer).setBigUint64(8, 1n << 60n, true);
    for (const bad of [
      bytes.subarray(0, bytes.length - 1),
      altered,
      future,
      hugeCount,
      new Uint8Array(10),
      new TextEncoder().encode('not an index at all, really not'),
    ]) {
      expect(() => DedupIndex.deserialize(bad)).toThrow(
        expect.objectContaining({ code: 'INDEX_CORRUPT' }),
      );
    }
  });
});
