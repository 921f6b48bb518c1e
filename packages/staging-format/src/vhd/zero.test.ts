import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isZero, isZeroPortable, NonZeroRangeFinder, type Range } from './zero.ts';

/** The obvious definition: non-zero sectors, merged while adjacent, cut at maxLength. */
function naiveRanges(data: Uint8Array, maxLength: number, start = 0): Range[] {
  const out: Range[] = [];
  let run: Range | undefined;
  for (let at = 0; at < data.length; at += 512) {
    const nonZero = data.subarray(at, at + 512).some((b) => b !== 0);
    const length = Math.min(512, data.length - at);
    if (!nonZero) {
      if (run) out.push(run);
      run = undefined;
      continue;
    }
    if (run && run.length + 512 <= maxLength) run.length += length;
    else {
      if (run) out.push(run);
      run = { offset: start + at, length };
    }
  }
  if (run) out.push(run);
  return out;
}

const sparseData = fc
  .array(fc.tuple(fc.nat(40 * 512), fc.integer({ min: 1, max: 255 })), { maxLength: 30 })
  .chain((writes) =>
    fc.integer({ min: 0, max: 40 * 512 }).map((size) => {
      const data = new Uint8Array(size);
      for (const [at, value] of writes) if (at < size) data[at] = value;
      return data;
    }),
  );

describe('isZero', () => {
  it('agrees with a byte loop, native and portable, at any alignment', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.nat(7),
        fc.boolean(),
        (bytes, skip, zero) => {
          const data = zero ? new Uint8Array(bytes.length) : bytes;
          const view = data.subarray(Math.min(skip, data.length));
          const expected = view.every((b) => b === 0);
          expect(isZero(view)).toBe(expected);
          expect(isZeroPortable(view)).toBe(expected);
        },
      ),
    );
  });
});

describe('isZero on almost-zero data', () => {
  it('finds a single non-zero byte anywhere, at any alignment', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.nat(),
        fc.nat(7),
        fc.integer({ min: 1, max: 255 }),
        (length, at, skip, value) => {
          const data = new Uint8Array(length + 8).subarray(skip, skip + length);
          expect(isZero(data)).toBe(true);
          data[at % length] = value;
          expect(isZero(data)).toBe(false);
        },
      ),
    );
  });
});

describe('NonZeroRangeFinder', () => {
  it('finds the same ranges as the obvious definition, however the data is split', () => {
    fc.assert(
      fc.property(
        sparseData,
        fc.array(fc.nat(3000), { maxLength: 20 }),
        fc.constantFrom(512, 1024, 4096, 4 * 1024 * 1024),
        (data, cuts, maxLength) => {
          const finder = new NonZeroRangeFinder({ maxLength, startOffset: 1024 });
          const got: Range[] = [];
          let at = 0;
          for (const cut of cuts) {
            const end = Math.min(data.length, at + cut);
            got.push(...finder.push(data.subarray(at, end)));
            at = end;
          }
          got.push(...finder.push(data.subarray(at)), ...finder.end());
          expect(got).toEqual(naiveRanges(data, maxLength, 1024));
        },
      ),
    );
  });

  it('treats skipped space as zeros', () => {
    const finder = new NonZeroRangeFinder();
    const one = new Uint8Array(600).fill(1);
    const ranges = [
      ...finder.push(one),
      ...finder.skipZeros(1000),
      ...finder.push(one),
      ...finder.end(),
    ];
    expect(ranges).toEqual([
      { offset: 0, length: 1024 },
      { offset: 1536, length: 664 },
    ]);
    expect(finder.position).toBe(2200);
  });

  it('caps ranges at 4 MiB by default and keeps them 512-aligned', () => {
    const finder = new NonZeroRangeFinder();
    const ranges = [...finder.push(new Uint8Array(9 * 1024 * 1024 + 512).fill(7)), ...finder.end()];
    expect(ranges.map((r) => r.length)).toEqual([4194304, 4194304, 1048576 + 512]);
    expect(ranges.every((r) => r.offset % 512 === 0)).toBe(true);
  });

  it('rejects bad options and use after end()', () => {
    expect(() => new NonZeroRangeFinder({ maxLength: 1000 })).toThrow(RangeError);
    expect(() => new NonZeroRangeFinder({ startOffset: 3 })).toThrow(RangeError);
    const finder = new NonZeroRangeFinder();
    finder.end();
    expect(() => finder.push(new Uint8Array(1))).toThrow(/after end/);
  });
});
