import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryByteSource } from '../byte-source/memory.ts';
import { MemoryByteSink } from '../byte-source/memory-sink.ts';
import { isStagingFormatError } from '../errors.ts';
import { convertDisk, createDifferencing, rawDisk } from './convert.ts';
import { openVhd, type VhdDisk } from './disk.ts';
import { encodeFooter, footerStruct } from './footer.ts';
import { encodeHeader, headerStruct } from './header.ts';
import { DynamicVhdWriter, FixedVhdWriter } from './writer.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK_64K = 64 * KiB;

async function toVhd(
  content: Uint8Array,
  type: 'fixed' | 'dynamic',
  blockSize?: number,
): Promise<Uint8Array> {
  const sink = new MemoryByteSink();
  await convertDisk(rawDisk(new MemoryByteSource(content)), sink, {
    type,
    virtualSize: content.length,
    ...(blockSize === undefined ? {} : { blockSize }),
  });
  return sink.bytes.slice();
}

async function open(bytes: Uint8Array, parent?: VhdDisk): Promise<VhdDisk> {
  return openVhd(new MemoryByteSource(bytes), parent === undefined ? {} : { parent });
}

/** Content of `sectors` sectors with a few non-zero runs. */
const sparseContent = (maxSectors: number) =>
  fc
    .tuple(
      fc.integer({ min: 1, max: maxSectors }),
      fc.array(fc.tuple(fc.nat(), fc.nat(3000), fc.integer({ min: 1, max: 255 })), {
        maxLength: 8,
      }),
    )
    .map(([sectors, runs]) => {
      const data = new Uint8Array(sectors * 512);
      for (const [at, length, value] of runs) {
        const start = at % data.length;
        data.fill(value, start, Math.min(data.length, start + length));
      }
      return data;
    });

describe('dynamic and fixed round trips', () => {
  it('reads back any content at any offset, for fixed and dynamic disks of any block size', async () => {
    await fc.assert(
      fc.asyncProperty(
        sparseContent(200),
        fc.constantFrom(512, 4 * KiB, 16 * KiB),
        fc.nat(),
        fc.nat(),
        async (content, blockSize, a, b) => {
          for (const type of ['fixed', 'dynamic'] as const) {
            const disk = await open(await toVhd(content, type, blockSize));
            expect(disk.type).toBe(type);
            expect(disk.virtualSize).toBe(content.length);
            const start = a % content.length;
            const end = start + (b % (content.length - start + 1));
            expect(await disk.read(start, end - start)).toEqual(content.subarray(start, end));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves zero blocks unallocated and writes an exact BAT', async () => {
    const content = new Uint8Array(8 * 4 * KiB);
    content[5 * 4 * KiB + 7] = 1;
    const disk = await open(await toVhd(content, 'dynamic', 4 * KiB));
    expect(disk.header?.maxTableEntries).toBe(8);
    expect([...Array(8).keys()].map((i) => disk.blockOffset(i) !== undefined)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
    ]);
    expect(disk.mayHaveData(0, 5 * 4 * KiB)).toBe(false);
    expect(disk.mayHaveData(5 * 4 * KiB, 1)).toBe(true);
  });

  it('rejects reads outside the disk with RangeError', async () => {
    const disk = await open(await toVhd(new Uint8Array(4096), 'dynamic', 4096));
    await expect(disk.read(4000, 200)).rejects.toBeInstanceOf(RangeError);
    await expect(disk.read(-1, 1)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('streaming conversion', () => {
  /** A sink whose writes complete out of order and late, as file writes on a busy machine do. */
  function slowSink(): MemoryByteSink {
    const sink = new MemoryByteSink();
    const write = sink.write.bind(sink);
    let turn = 0;
    sink.write = async (offset, bytes, options) => {
      const copy = () => write(offset, bytes, options);
      // Read the bytes only after a delay: a reused buffer would show up as wrong data.
      await new Promise((resolve) => setTimeout(resolve, (turn++ * 7) % 5));
      return copy();
    };
    return sink;
  }

  it('never reuses a buffer while its write is in flight', async () => {
    const content = new Uint8Array(24 * BLOCK_64K);
    for (let i = 0; i < content.length; i += 333) content[i] = (i >> 9) & 0xff;
    content.fill(0, 2 * BLOCK_64K, 9 * BLOCK_64K);
    for (const type of ['dynamic', 'fixed', 'raw'] as const) {
      const sink = slowSink();
      await convertDisk(rawDisk(new MemoryByteSource(content)), sink, {
        type,
        virtualSize: content.length,
        blockSize: BLOCK_64K,
      });
      const bytes = sink.bytes.slice();
      const read = type === 'raw' ? bytes : await (await open(bytes)).read(0, content.length);
      expect(read).toEqual(content);
    }
  });
});

describe('differencing disks', () => {
  it('reads as the content they were created from, storing only differing sectors', async () => {
    await fc.assert(
      fc.asyncProperty(
        sparseContent(64),
        fc.array(fc.tuple(fc.nat(), fc.nat(1500), fc.nat(255)), { maxLength: 6 }),
        fc.constantFrom<'fixed' | 'dynamic'>('fixed', 'dynamic'),
        async (base, edits, parentType) => {
          const parent = await open(await toVhd(base, parentType, 4 * KiB));
          const content = base.slice();
          for (const [at, length, value] of edits) {
            const start = at % content.length;
            content.fill(value, start, Math.min(content.length, start + length));
          }
          const sink = new MemoryByteSink();
          await createDifferencing(parent, rawDisk(new MemoryByteSource(content)), sink, {
            parentPath: { relativePath: 'base.vhd' },
            blockSize: 4 * KiB,
          });
          const child = await open(sink.bytes.slice(), parent);
          expect(child.type).toBe('differencing');
          expect(await child.read(0, content.length)).toEqual(content);
          // Sector-exact: reading one sector at a time agrees too (bitmap runs, parent fallback).
          for (let at = 0; at < content.length; at += 1536)
            expect(await child.read(at, Math.min(700, content.length - at))).toEqual(
              content.subarray(at, at + Math.min(700, content.length - at)),
            );
          if (edits.length === 0)
            expect(child.mayHaveData(0, content.length)).toBe(
              parent.mayHaveData(0, content.length),
            );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('checks the parent identity and records the locators', async () => {
    const parent = await open(await toVhd(new Uint8Array(8192).fill(1), 'dynamic', 4096));
    const other = await open(await toVhd(new Uint8Array(8192).fill(1), 'dynamic', 4096));
    const sink = new MemoryByteSink();
    const content = new Uint8Array(8192).fill(1).fill(0, 0, 512);
    await createDifferencing(parent, rawDisk(new MemoryByteSource(content)), sink, {
      parentPath: { relativePath: 'dir/base.vhd', absolutePath: 'C:\\disks\\dir\\base.vhd' },
    });
    const bytes = sink.bytes.slice();
    const child = await open(bytes, parent);
    expect(child.parentReference).toMatchObject({
      name: 'dir/base.vhd',
      locators: [
        { platform: 'W2ru', path: '.\\dir\\base.vhd' },
        { platform: 'W2ku', path: 'C:\\disks\\dir\\base.vhd' },
      ],
    });
    await expect(open(bytes, other)).rejects.toMatchObject({
      code: 'VHD_PARENT_MISMATCH',
      offset: 552,
    });
    await expect(openVhd(new MemoryByteSource(bytes))).rejects.toMatchObject({
      code: 'VHD_PARENT_NOT_FOUND',
    });
    const orphan = await openVhd(new MemoryByteSource(bytes), { allowMissingParent: true });
    expect(await orphan.read(0, 512)).toEqual(new Uint8Array(512));
    await expect(orphan.read(0, 1024)).rejects.toMatchObject({
      code: 'VHD_PARENT_NOT_FOUND',
      offset: 512,
    });
  });
});

describe('damaged files', () => {
  it('falls back to the footer copy at offset 0 when the trailing footer is damaged', async () => {
    const bytes = await toVhd(new Uint8Array(8192).fill(3), 'dynamic', 4096);
    bytes[bytes.length - 1] ^= 0xff;
    const disk = await open(bytes);
    expect(disk.warnings.map((w) => w.code)).toEqual(['VHD_FOOTER_MISMATCH']);
    expect(await disk.read(0, 8192)).toEqual(new Uint8Array(8192).fill(3));
  });

  it('refuses BAT entries that point outside the file or at each other', async () => {
    const bytes = await toVhd(new Uint8Array(3 * 4096).fill(3), 'dynamic', 4096);
    const view = new DataView(bytes.buffer);
    const bat = 1536;
    const second = view.getUint32(bat + 4);
    view.setUint32(bat + 8, second); // block 2 onto block 1
    await expect(open(bytes)).rejects.toMatchObject({ code: 'VHD_BAT_OVERLAP' });
    view.setUint32(bat + 8, 0x00ff_ffff);
    await expect(open(bytes)).rejects.toMatchObject({
      code: 'VHD_BAT_OUT_OF_RANGE',
      offset: bat + 8,
    });
    view.setUint32(bat + 8, 1); // onto the header
    await expect(open(bytes)).rejects.toMatchObject({ code: 'VHD_BAT_OUT_OF_RANGE' });
  });

  it('refuses huge declared tables and sizes before allocating anything for them', async () => {
    const bytes = await toVhd(new Uint8Array(2 * 4096).fill(3), 'dynamic', 4096);
    const header = headerStruct.decode(bytes.subarray(512, 1536));
    const withHeader = (fields: Partial<typeof header>) => {
      const copy = bytes.slice();
      copy.set(encodeHeader({ ...header, ...fields }), 512);
      return copy;
    };
    await expect(open(withHeader({ maxTableEntries: 0xffff_ffff }))).rejects.toMatchObject({
      code: 'VHD_BAD_HEADER',
      offset: 512 + 28,
    });
    await expect(open(withHeader({ maxTableEntries: 1 << 23 }))).rejects.toMatchObject({
      code: 'VHD_TRUNCATED',
      offset: 512 + 16,
    });
    await expect(open(withHeader({ tableOffset: 1n << 60n }))).rejects.toMatchObject({
      code: 'VHD_TRUNCATED',
    });
    await expect(open(withHeader({ blockSize: 1 << 30 }))).rejects.toMatchObject({
      code: 'VHD_BAD_HEADER',
      offset: 512 + 32,
    });
    const footer = footerStruct.decode(bytes.subarray(0, 512));
    const huge = bytes.slice();
    const bigFooter = encodeFooter({ ...footer, currentSize: 1n << 62n });
    huge.set(bigFooter, 0);
    huge.set(bigFooter, huge.length - 512);
    await expect(open(huge)).rejects.toMatchObject({ code: 'VHD_BAD_SIZE' });
  });

  it('refuses a footer that declares more disk than the file holds', async () => {
    const bytes = await toVhd(new Uint8Array(4096), 'fixed');
    const footer = footerStruct.decode(bytes.subarray(4096));
    bytes.set(encodeFooter({ ...footer, currentSize: 1n << 50n }), 4096);
    await expect(open(bytes)).rejects.toMatchObject({ code: 'VHD_TRUNCATED', offset: 4096 });
    bytes.set(encodeFooter({ ...footer, diskType: 5 }), 4096);
    await expect(open(bytes)).rejects.toMatchObject({
      code: 'VHD_UNSUPPORTED_TYPE',
      offset: 4096 + 60,
    });
  });
});

describe('writers', () => {
  it('seals a fixed VHD at a whole MiB when no size was given', async () => {
    const sink = new MemoryByteSink();
    const writer = new FixedVhdWriter(sink);
    await writer.write(new Uint8Array(1000).fill(1));
    await writer.write(new Uint8Array(MiB));
    const result = await writer.finish();
    expect(result).toMatchObject({ virtualSize: 2 * MiB, fileSize: 2 * MiB + 512 });
    expect(sink.bytes.length).toBe(2 * MiB + 512);
    const disk = await open(sink.bytes.slice());
    expect(await disk.read(0, 1001)).toEqual(
      Uint8Array.from({ length: 1001 }, (_, i) => (i < 1000 ? 1 : 0)),
    );
    await expect(writer.write(new Uint8Array(1))).rejects.toMatchObject({
      code: 'VHD_WRITER_STATE',
    });
  });

  it('refuses data beyond a declared size, and bad arguments', async () => {
    const writer = new FixedVhdWriter(new MemoryByteSink(), { virtualSize: 1024 });
    await expect(writer.write(new Uint8Array(2048))).rejects.toMatchObject({
      code: 'VHD_WRITER_STATE',
      offset: 0,
    });
    expect(() => new FixedVhdWriter(new MemoryByteSink(), { virtualSize: 1000 })).toThrow(
      RangeError,
    );
    expect(
      () => new DynamicVhdWriter(new MemoryByteSink(), { virtualSize: 4096, blockSize: 3000 }),
    ).toThrow(RangeError);
    expect(() => new DynamicVhdWriter(new MemoryByteSink(), { virtualSize: 2 ** 42 })).toThrow(
      RangeError,
    );
    const dynamic = new DynamicVhdWriter(new MemoryByteSink(), {
      virtualSize: 6144,
      blockSize: 4096,
    });
    await expect(dynamic.writeBlock(2, new Uint8Array(4096))).rejects.toBeInstanceOf(RangeError);
    await expect(dynamic.writeBlock(1, new Uint8Array(4096))).rejects.toBeInstanceOf(RangeError);
    await dynamic.writeBlock(1, new Uint8Array(2048).fill(1));
    await dynamic.finish();
    await expect(dynamic.finish()).rejects.toMatchObject({ code: 'VHD_WRITER_STATE' });
  });

  it('is typed when the file is not a VHD at all', async () => {
    const error = await open(new Uint8Array(10_000)).catch((e: unknown) => e);
    expect(isStagingFormatError(error, 'VHD_BAD_COOKIE')).toBe(true);
  });
});
