import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, isHex, toHex } from './bytes.ts';

describe('hex', () => {
  it('round-trips any bytes, and agrees with Node in either case', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString('hex'));
        expect(fromHex(hex)).toEqual(bytes);
        expect(fromHex(hex.toUpperCase(), bytes.length)).toEqual(bytes);
        expect(isHex(hex, bytes.length)).toBe(true);
      }),
    );
  });

  it('rejects what is not hex of the expected length', () => {
    const id = 'ab'.repeat(32);
    for (const bad of ['abc', 'zz', 'a ', ' a', '0x', 'g0', '/0', ':0', '@0', '`0']) {
      expect(fromHex(bad)).toBeUndefined();
      expect(isHex(bad, Math.ceil(bad.length / 2))).toBe(false);
    }
    expect(fromHex(id, 31)).toBeUndefined();
    expect(isHex(id, 31)).toBe(false);
    expect(isHex(`${id.slice(1)}G`, 32)).toBe(false);
    expect(fromHex(42 as unknown as string)).toBeUndefined();
    expect(isHex(42, 1)).toBe(false);
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });
});
