import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../format/bytes.ts';
import { createLaneHasher, type LaneMessage, MD5_LANES, md5LanesModule } from './md5-lanes.ts';

const module = md5LanesModule();

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

/** Hashes `messages` through the lanes, `flushEvery` adds at a time; digests by key. */
function hashAll(messages: LaneMessage[], flushEvery = Number.POSITIVE_INFINITY) {
  const digests = new Map<number, string>();
  const lanes = createLaneHasher(module!, ({ key }, md5) => {
    expect(digests.has(key)).toBe(false);
    digests.set(key, toHex(md5));
  });
  for (const [i, message] of messages.entries()) {
    lanes.add(message);
    if ((i + 1) % flushEvery === 0) lanes.flush();
  }
  lanes.flush();
  expect(lanes.oldest()).toBe(Number.POSITIVE_INFINITY);
  return digests;
}

function message(key: number, bytes: Uint8Array, cuts: number[] = []): LaneMessage {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut <= at || cut >= bytes.length) continue;
    parts.push(bytes.subarray(at, cut));
    at = cut;
  }
  parts.push(bytes.subarray(at));
  return { key, length: bytes.length, parts };
}

describe('MD5 lanes', () => {
  it('compiles here (Node has WebAssembly SIMD), and is missing, not failing, where it cannot', async () => {
    expect(module).toBeDefined();
    const fresh = () => import('./md5-lanes.ts').then((fresh) => fresh.md5LanesModule());
    vi.resetModules();
    vi.stubGlobal('WebAssembly', undefined);
    expect(await fresh()).toBeUndefined();
    vi.resetModules();
    vi.stubGlobal('WebAssembly', { validate: () => false });
    expect(await fresh()).toBeUndefined();
    vi.resetModules();
    vi.stubGlobal('WebAssembly', {
      validate: () => true,
      Module: class {
        constructor() {
          throw new RangeError('WebAssembly.Module(): Compiling on the main thread is disallowed');
        }
      },
    });
    expect(await fresh()).toBeUndefined();
  });

  it('gives the RFC 1321 test suite digests', () => {
    const suite: Array<[string, string]> = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      [
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
        'd174ab98d277d9f5a5611c2c9f419d9f',
      ],
      [
        '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
        '57edf4a22be3c955ac49da2e2107b67a',
      ],
    ];
    const digests = hashAll(
      suite.map(([text], key) => message(key, new TextEncoder().encode(text))),
    );
    expect(suite.map((_, key) => digests.get(key))).toEqual(suite.map(([, md5]) => md5));
  });

  it('matches node:crypto for any lengths, splits and batching, each lane on its own', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            bytes: fc.oneof(
              fc.uint8Array({ maxLength: 300 }),
              fc.integer({ min: 60_000, max: 140_000 }).map((n) => new Uint8Array(n).fill(n & 255)),
            ),
            cuts: fc.array(fc.nat(140_000), { maxLength: 4 }),
          }),
          { maxLength: 3 * MD5_LANES },
        ),
        fc.integer({ min: 1, max: 2 * MD5_LANES }),
        (inputs, flushEvery) => {
          const digests = hashAll(
            inputs.map(({ bytes, cuts }, key) => message(key * 10, bytes, cuts)),
            flushEvery,
          );
          for (const [key, { bytes }] of inputs.entries())
            expect(digests.get(key * 10)).toBe(createHash('md5').update(bytes).digest('hex'));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('hashes only once every lane is busy, and reports the oldest message still waiting', () => {
    const digests: number[] = [];
    const lanes = createLaneHasher(module!, ({ key }) => digests.push(key));
    const big = new Uint8Array(200_000);
    for (let key = 0; key < MD5_LANES - 1; key++) lanes.add(message(key, big));
    expect(digests).toEqual([]);
    expect(lanes.oldest()).toBe(0);
    // A short message joins: the lanes run until it is done and its lane has nothing to take.
    lanes.add(message(100, new Uint8Array(10)));
    expect(digests).toEqual([100]);
    expect(lanes.oldest()).toBe(0);
    lanes.flush();
    expect(digests.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 100]);
    expect(lanes.oldest()).toBe(Number.POSITIVE_INFINITY);
  });

  it('handles a 4 MiB message split where the lanes’ windows fall', () => {
    const bytes = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 997) bytes[i] = i & 255;
    const cuts = [1, 65_535, 65_536, 65_537, 3 * 1024 * 1024 - 8];
    const digests = hashAll(
      Array.from({ length: MD5_LANES + 1 }, (_, key) => message(key, bytes, cuts)),
    );
    const expected = createHash('md5').update(bytes).digest('hex');
    expect(new Set(digests.values())).toEqual(new Set([expected]));
    expect(digests.size).toBe(MD5_LANES + 1);
  });
});
