import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkerMasks, defaultChunkerParams, FastCdc } from './fastcdc.ts';
import { gearTable } from './gear.ts';
import { chunkStream, StreamingChunker } from './stream.ts';

const sekien = readFileSync(
  new URL('../../../../../shared/fixtures/SekienAkashita.jpg', import.meta.url),
);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('the Gear table', () => {
  it('is derived from MD5 as the fastcdc crate derives it', () => {
    const { full } = gearTable();
    expect(full[0]).toBe(0x3b5d3c7d207e37dcn);
    expect(full[1]).toBe(0x784d68ba91123086n);
    expect(full[255]).toBe(0xaabd2b2a451504e1n);
  });

  it('XORs a seed into every entry', () => {
    const seed = 0x1234_5678_9abc_def0n;
    expect(gearTable(seed).full[7]).toBe(gearTable().full[7]! ^ seed);
  });
});

describe('FastCdc (v2020) against the fastcdc crate vectors', () => {
  it('cuts SekienAkashita.jpg at 4096/16384/65535 (NC1) with the same cuts, hashes and digests', () => {
    const cdc = new FastCdc({ minSize: 4096, avgSize: 16384, maxSize: 65535 });
    const cuts = [...cdc.chunks(sekien)].map((c) => ({
      offset: c.offset,
      length: c.length,
      hash: c.hash,
      sha: sha256(c.data),
    }));
    expect(sekien.length).toBe(109466);
    expect(cuts).toEqual([
      {
        offset: 0,
        length: 21325,
        hash: 17968276318003433923n,
        sha: '695429afe5937d6c75099f6e587267065a64e9dd83596a3d7386df3ef5a792c2',
      },
      {
        offset: 21325,
        length: 17140,
        hash: 8197189939299398838n,
        sha: '17119f7abc183375afdb652248aad0c7211618d263335cc4e4ffc9a31e719bcb',
      },
      {
        offset: 38465,
        length: 28084,
        hash: 13019990849178155730n,
        sha: '1545925739c6bfbd6609752a0e6ab61854f14d1fdb9773f08a7f52a13f9362d8',
      },
      {
        offset: 66549,
        length: 18217,
        hash: 4509236223063678303n,
        sha: 'bbd5b0b284d4e3c2098e92e8e2897e738c669113d06472560188d99a288872a3',
      },
      {
        offset: 84766,
        length: 24700,
        hash: 2504464741100432583n,
        sha: 'ede34e1a6cb287766e857eb0ed45b9f4b5ad83bb93c597be880c3a2ac91cddbe',
      },
    ]);
  });

  it('cuts all-zero data at the maximum size with the crate hash', () => {
    const cdc = new FastCdc({ minSize: 64, avgSize: 256, maxSize: 1024 });
    const cuts = [...cdc.cuts(new Uint8Array(10240))];
    expect(cuts).toHaveLength(10);
    for (const cut of cuts)
      expect(cut).toMatchObject({ length: 1024, hash: 14169102344523991076n });
  });

  it('picks the masks the crate picks, rounding log2 of the average', () => {
    expect(chunkerMasks(256, 1)).toEqual({ strict: 0x19000353000, loose: 0x18035100 });
    // The reference pairs: (8192,16384,32768) → MASKS[13], [15]; (1 MiB,4 MiB,16 MiB) → [21], [23].
    expect(chunkerMasks(16384, 1)).toEqual({ strict: 0xd90f03530000, loose: 0xd90303530000 });
    expect(chunkerMasks(4 * 1024 * 1024, 1)).toEqual({
      strict: 0xd93777537000,
      loose: 0xd91767537000,
    });
    expect(chunkerMasks(4 * 1024 * 1024, 3)).toEqual({
      strict: 0xdb3777577000,
      loose: 0xd91707537000,
    });
    expect(chunkerMasks(256, 3)).toEqual({ strict: 0xd90003530000, loose: 0x1804110 });
    expect(chunkerMasks(1500, 0).strict).toBe(0xd90003530000); // log2(1500) ≈ 10.55 → 11
    expect(chunkerMasks(1100, 0).strict).toBe(0x590003530000); // log2(1100) ≈ 10.1 → 10
  });

  it('has defaults suited to terabytes', () => {
    expect(defaultChunkerParams).toMatchObject({
      minSize: 512 * 1024,
      avgSize: 1024 * 1024,
      maxSize: 8 * 1024 * 1024,
      level: 1,
    });
  });

  it('rejects sizes, levels and seeds the crate rejects', () => {
    expect(() => new FastCdc({ minSize: 63 })).toThrow(RangeError);
    expect(() => new FastCdc({ avgSize: 8 * 1024 * 1024 })).toThrow(RangeError);
    expect(() => new FastCdc({ maxSize: 32 * 1024 * 1024 })).toThrow(RangeError);
    expect(() => new FastCdc({ minSize: 8192, avgSize: 4096, maxSize: 65536 })).toThrow(
      /minSize ≤ avgSize/,
    );
    expect(() => new FastCdc({ level: 4 })).toThrow(RangeError);
    expect(() => new FastCdc({ seed: -1n })).toThrow(RangeError);
    expect(() => new FastCdc({ minSize: 1.5 })).toThrow(RangeError);
  });
});

/**
 * An independent, literal port of the crate's `v2020::cut_gear` on 64-bit BigInt state (slow but
 * obviously right), to check the fast loop against for every size, level and seed.
 */
function referenceCut(
  source: Uint8Array,
  min: number,
  avg: number,
  max: number,
  level: number,
  seed: bigint,
): [bigint, number] {
  const gear = gearTable(seed).full;
  const u64 = (x: bigint) => BigInt.asUintN(64, x);
  const { strict: maskS, loose: maskL } = chunkerMasks(avg, level);
  const [ms, ml] = [BigInt(maskS), BigInt(maskL)];
  let remaining = source.length;
  if (remaining <= min) return [0n, remaining];
  let center = avg;
  if (remaining > max) remaining = max;
  else if (remaining < center) center = remaining;
  let index = Math.floor(min / 2);
  let hash = 0n;
  const step = (limit: number, mask: bigint): [bigint, number] | undefined => {
    for (; index < Math.floor(limit / 2); index++) {
      const a = index * 2;
      hash = u64((hash << 2n) + u64(gear[source[a]!]! << 1n));
      if ((hash & (mask << 1n)) === 0n) return [hash, a];
      hash = u64(hash + gear[source[a + 1]!]!);
      if ((hash & mask) === 0n) return [hash, a + 1];
    }
    return undefined;
  };
  return step(center, ms) ?? step(remaining, ml) ?? [hash, remaining];
}

const sizes = fc
  .record({
    min: fc.integer({ min: 64, max: 2048 }),
    avgFactor: fc.integer({ min: 1, max: 8 }),
    maxFactor: fc.integer({ min: 1, max: 8 }),
  })
  .map(({ min, avgFactor, maxFactor }) => {
    const avg = Math.max(256, min * avgFactor);
    return { minSize: min, avgSize: avg, maxSize: Math.max(1024, avg * maxFactor) };
  });
const levels = fc.integer({ min: 0, max: 3 });
const seeds = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
/** Data that cuts often: random bytes mixed with long runs, so maximum-size cuts happen too. */
const data = fc
  .array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 4096 }),
      fc.integer({ min: 1, max: 20000 }).map((n) => new Uint8Array(n).fill(7)),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Uint8Array.from(parts.flatMap((p) => [...p])));

describe('FastCdc properties', () => {
  it('matches a literal BigInt port of the crate for every size, level and seed', () => {
    fc.assert(
      fc.property(sizes, levels, seeds, data, (size, level, seed, bytes) => {
        const cdc = new FastCdc({ ...size, level, seed });
        let offset = 0;
        for (const cut of cdc.cuts(bytes)) {
          const [hash, length] = referenceCut(
            bytes.subarray(offset),
            size.minSize,
            size.avgSize,
            size.maxSize,
            level,
            seed,
          );
          expect([cut.hash, cut.length]).toEqual([hash, length]);
          offset += length;
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps every chunk within [min, max] except the last, and covers the input exactly', () => {
    fc.assert(
      fc.property(sizes, levels, data, (size, level, bytes) => {
        const cuts = [...new FastCdc({ ...size, level }).cuts(bytes)];
        expect(cuts.reduce((sum, c) => sum + c.length, 0)).toBe(bytes.length);
        cuts.forEach((cut, i) => {
          expect(cut.length).toBeLessThanOrEqual(size.maxSize);
          if (i < cuts.length - 1) expect(cut.length).toBeGreaterThanOrEqual(size.minSize & ~1);
        });
      }),
    );
  });

  it('gives the same chunks when streamed in random pieces as over the whole buffer', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes,
        levels,
        data,
        fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1 }),
        async (size, level, bytes, pieceSizes) => {
          const whole = [...new FastCdc({ ...size, level }).chunks(bytes)].map(
            ({ offset, length, hash }) => ({ offset, length, hash }),
          );
          const pieces: Uint8Array[] = [];
          for (let at = 0, i = 0; at < bytes.length; i++) {
            const n = pieceSizes[i % pieceSizes.length]!;
            pieces.push(bytes.subarray(at, at + n));
            at += n;
          }
          const streamed = [];
          for await (const chunk of chunkStream(pieces, { ...size, level })) {
            expect(chunk.data).toEqual(bytes.subarray(chunk.offset, chunk.offset + chunk.length));
            streamed.push({ offset: chunk.offset, length: chunk.length, hash: chunk.hash });
          }
          expect(streamed).toEqual(whole);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives the same chunks when a reader fills reserve()d views, mixed with push()', () => {
    fc.assert(
      fc.property(
        sizes,
        data,
        fc.array(
          fc.tuple(
            fc.integer({ min: 1, max: 9000 }),
            fc.integer({ min: 0, max: 9000 }),
            fc.boolean(),
          ),
          { minLength: 1 },
        ),
        (size, bytes, steps) => {
          const whole = [...new FastCdc(size).cuts(bytes)].map(({ offset, length }) => ({
            offset,
            length,
          }));
          const chunker = new StreamingChunker(size);
          const chunks: Array<{ offset: number; length: number; data: Uint8Array }> = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const [want, filled, usePush] = steps[i % steps.length]!;
            if (usePush) {
              chunks.push(...chunker.push(bytes.subarray(at, at + want)));
              at += Math.min(want, bytes.length - at);
            } else {
              const view = chunker.reserve(want);
              const n = Math.min(filled, want, bytes.length - at);
              view.set(bytes.subarray(at, at + n));
              view.fill(0xee, n); // scribbles past what is committed must not leak into chunks
              chunks.push(...chunker.commit(n));
              at += n;
            }
          }
          chunks.push(...chunker.commit(0, true));
          expect(chunks.map(({ offset, length }) => ({ offset, length }))).toEqual(whole);
          // Views handed out earlier are never overwritten by later reads.
          for (const chunk of chunks)
            expect(chunk.data).toEqual(bytes.subarray(chunk.offset, chunk.offset + chunk.length));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('emits each cut as soon as it is certain when read in large pieces: the tail holds none', () => {
    const options = { minSize: 4096, avgSize: 16384, maxSize: 65535 };
    const cdc = new FastCdc(options);
    const chunker = new StreamingChunker(cdc);
    let committed = 0;
    for (let at = 0; at < sekien.length; at += options.maxSize) {
      const bytes = sekien.subarray(at, at + options.maxSize);
      chunker.reserve(bytes.length).set(bytes);
      chunker.commit(bytes.length);
      committed += bytes.length;
      const tail = sekien.subarray(committed - chunker.pendingBytes, committed);
      // Without early cuts the tail kept up to maxSize bytes, cuts included (30–60 KiB here).
      expect(cdc.cut(tail, 0, tail.length)).toBe(tail.length);
    }
  });

  it('cuts the same chunks from shared buffers, for workers to read in place', () => {
    const options = { minSize: 4096, avgSize: 16384, maxSize: 65535 };
    const shared = new StreamingChunker(options, { shared: true });
    const chunks = [];
    for (let at = 0; at < sekien.length; at += 3000) {
      const piece = shared.reserve(3000);
      const bytes = sekien.subarray(at, at + 3000);
      piece.set(bytes);
      chunks.push(...shared.commit(bytes.length, at + 3000 >= sekien.length));
    }
    expect(chunks.map((c) => c.data.buffer instanceof SharedArrayBuffer)).not.toContain(false);
    const digest = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
    expect(chunks.map((c) => [c.offset, c.length, digest(c.data)])).toEqual(
      [...new FastCdc(options).chunks(sekien)].map((c) => [c.offset, c.length, digest(c.data)]),
    );
  });

  it('refuses to commit more than was reserved', () => {
    const chunker = new StreamingChunker({ minSize: 64, avgSize: 256, maxSize: 1024 });
    chunker.reserve(10);
    expect(() => chunker.commit(11)).toThrow(RangeError);
    expect(() => chunker.reserve(-1)).toThrow(RangeError);
  });

  it('streams the crate vectors byte-identically even in 1000-byte pieces', () => {
    const chunker = new StreamingChunker({ minSize: 4096, avgSize: 16384, maxSize: 65535 });
    const lengths: number[] = [];
    for (let at = 0; at < sekien.length; at += 1000) {
      for (const c of chunker.push(sekien.subarray(at, at + 1000))) lengths.push(c.length);
    }
    for (const c of chunker.push(new Uint8Array(0), true)) lengths.push(c.length);
    expect(lengths).toEqual([21325, 17140, 28084, 18217, 24700]);
    expect(() => chunker.push(new Uint8Array(1))).toThrow(/already had its final piece/);
  });

  it('yields nothing for an empty stream and stops when aborted', async () => {
    const none = [];
    for await (const chunk of chunkStream([])) none.push(chunk);
    expect(none).toEqual([]);
    const controller = new AbortController();
    controller.abort();
    await expect(
      chunkStream([new Uint8Array(10)], { abortSignal: controller.signal }).next(),
    ).rejects.toThrow();
  });
});
