import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryByteSource } from '../byte-source/memory.ts';
import { MemoryByteSink } from '../byte-source/memory-sink.ts';
import { isStagingFormatError } from '../errors.ts';
import { azureCompatibility, checkVhd } from './check.ts';
import { convertDisk, createDifferencing, rawDisk } from './convert.ts';
import { openVhd, type VhdDisk } from './disk.ts';
import { vhdChecksum } from './struct.ts';
import { listExtents } from './virtual-fixed.ts';

/*
 * Mutated valid images (bit flips, truncation, hostile BAT entries, header and footer fields set to
 * hostile values with valid checksums so that they get past the checksum) must end in a typed
 * StagingFormatError or a successful read: never another exception, a hang or a huge allocation.
 */

const BLOCK = 4096;
let parent: VhdDisk;
const seeds: Record<'fixed' | 'dynamic' | 'differencing', Uint8Array> = {
  fixed: new Uint8Array(),
  dynamic: new Uint8Array(),
  differencing: new Uint8Array(),
};

beforeAll(async () => {
  const content = new Uint8Array(16 * BLOCK);
  for (let i = 0; i < content.length; i += 97) content[i] = i & 0xff;
  content.fill(0, 4 * BLOCK, 9 * BLOCK);
  for (const type of ['fixed', 'dynamic'] as const) {
    const sink = new MemoryByteSink();
    await convertDisk(rawDisk(new MemoryByteSource(content)), sink, {
      type,
      virtualSize: content.length,
      blockSize: BLOCK,
    });
    seeds[type] = sink.bytes.slice();
  }
  parent = await openVhd(new MemoryByteSource(seeds.dynamic));
  const changed = content
    .slice()
    .fill(7, 5000, 7000)
    .fill(9, 10 * BLOCK, 10 * BLOCK + 700);
  const sink = new MemoryByteSink();
  await createDifferencing(parent, rawDisk(new MemoryByteSource(changed)), sink, {
    parentPath: { relativePath: 'parent.vhd', absolutePath: 'C:\\vm\\parent.vhd' },
  });
  seeds.differencing = sink.bytes.slice();
});

type Mutation = (bytes: Uint8Array) => Uint8Array;

/** Sets a big-endian field and, when it lies in the footer or header, repairs that checksum. */
function setField(bytes: Uint8Array, offset: number, size: 4 | 8, value: bigint): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (offset < 0 || offset + size > bytes.length) return bytes;
  if (size === 4) view.setUint32(offset, Number(value & 0xffff_ffffn));
  else view.setBigUint64(offset, value & 0xffff_ffff_ffff_ffffn);
  const repair = (start: number, length: number, checksumAt: number) => {
    if (start < 0 || start + length > bytes.length || offset < start || offset >= start + length)
      return;
    view.setUint32(
      start + checksumAt,
      vhdChecksum(bytes.subarray(start, start + length), checksumAt),
    );
  };
  repair(bytes.length - 512, 512, 64);
  repair(0, 512, 64);
  repair(512, 1024, 36);
  return bytes;
}

const hostileNumber = fc.oneof(
  fc.constantFrom(
    0n,
    1n,
    511n,
    512n,
    0xffff_ffffn,
    0xffff_ffff_ffff_ffffn,
    1n << 40n,
    1n << 53n,
    1n << 62n,
  ),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.bigInt({ min: 0n, max: 70_000n }),
);

/** Fields worth attacking: footer (at the end and at 0), header, locator entries, BAT entries. */
const fieldTargets = (length: number): Array<[number, 4 | 8]> => {
  const footer = length - 512;
  return [
    [footer + 16, 8],
    [footer + 40, 8],
    [footer + 48, 8],
    [footer + 56, 4],
    [footer + 60, 4],
    [footer + 12, 4],
    [16, 8],
    [48, 8],
    [60, 4],
    [512 + 8, 8],
    [512 + 16, 8],
    [512 + 24, 4],
    [512 + 28, 4],
    [512 + 32, 4],
    [512 + 576 + 4, 4],
    [512 + 576 + 8, 4],
    [512 + 576 + 16, 8],
    [512 + 600 + 4, 4],
    [512 + 600 + 8, 4],
    [512 + 600 + 16, 8],
    [1536, 4],
    [1540, 4],
    [1544, 4],
    [1536 + 4 * 15, 4],
  ];
};

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 8 }).map(
    (flips): Mutation =>
      (bytes) => {
        if (bytes.length === 0) return bytes;
        // Flips aimed at the metadata half the time: that is where parsers break.
        for (const [at, bit] of flips) {
          const index =
            at % 2 === 0
              ? at % Math.min(bytes.length, 4096)
              : bytes.length - 1 - (at % Math.min(bytes.length, 512));
          bytes[index]! ^= 1 << bit;
        }
        return bytes;
      },
  ),
  fc.nat().map(
    (cut): Mutation =>
      (bytes) =>
        bytes.subarray(0, cut % bytes.length),
  ),
  fc.tuple(fc.nat(), hostileNumber).map(
    ([which, value]): Mutation =>
      (bytes) => {
        const targets = fieldTargets(bytes.length);
        const [offset, size] = targets[which % targets.length]!;
        return setField(bytes, offset, size, value);
      },
  ),
);

async function exercise(bytes: Uint8Array, withParent: boolean): Promise<'opened' | 'rejected'> {
  const source = new MemoryByteSource(bytes);
  const problems = await checkVhd(source, withParent ? { parent } : {});
  expect(Array.isArray(problems)).toBe(true);
  await azureCompatibility(source);
  let disk: VhdDisk;
  try {
    disk = await openVhd(source, withParent ? { parent } : { allowMissingParent: true });
  } catch (error) {
    if (!isStagingFormatError(error)) throw error;
    expect(error.code).toMatch(/^(VHD_|SOURCE_)/);
    return 'rejected';
  }
  // A file that opens without error-level problems is one checkVhd finds no error in.
  expect(
    problems.filter((p) => p.severity === 'error' && !p.code.startsWith('VHD_PARENT')),
  ).toEqual([]);
  try {
    await disk.read(0, Math.min(disk.virtualSize, 64 * 1024));
    let ranges = 0;
    for await (const range of listExtents(disk)) {
      expect(range.offset % 512).toBe(0);
      ranges++;
    }
    expect(ranges).toBeGreaterThan(0);
  } catch (error) {
    if (!isStagingFormatError(error)) throw error;
  }
  return 'opened';
}

describe('fuzzing VHD parsing and reading', () => {
  it.each(['fixed', 'dynamic', 'differencing'] as const)(
    'survives mutated %s images',
    async (type) => {
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
          let bytes: Uint8Array = seeds[type].slice();
          for (const mutate of mutations) bytes = mutate(bytes);
          await exercise(bytes, type === 'differencing');
        }),
        { numRuns: 1500 },
      );
    },
  );
});
