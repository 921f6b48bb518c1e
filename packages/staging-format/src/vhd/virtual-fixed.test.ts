import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryByteSource } from '../byte-source/memory.ts';
import { MemoryByteSink } from '../byte-source/memory-sink.ts';
import { azureCompatibility } from './check.ts';
import { convertDisk, createDifferencing, rawDisk } from './convert.ts';
import { openVhd, type VhdDisk } from './disk.ts';
import { listExtents, VirtualFixedVhd } from './virtual-fixed.ts';
import { type Range, splitRange } from './zero.ts';

const BLOCK = 4096;

async function dynamicOf(content: Uint8Array): Promise<VhdDisk> {
  const sink = new MemoryByteSink();
  await convertDisk(rawDisk(new MemoryByteSource(content)), sink, {
    type: 'dynamic',
    virtualSize: content.length,
    blockSize: BLOCK,
  });
  return openVhd(sink.toSource());
}

/** Non-zero sectors of `bytes`, merged while adjacent, cut at `max`. */
function expectedRanges(bytes: Uint8Array, max: number): Range[] {
  const merged: Range[] = [];
  for (let at = 0; at < bytes.length; at += 512) {
    if (bytes.subarray(at, at + 512).every((b) => b === 0)) continue;
    const last = merged[merged.length - 1];
    if (last !== undefined && last.offset + last.length === at) last.length += 512;
    else merged.push({ offset: at, length: 512 });
  }
  return merged.flatMap((range) => splitRange(range, max));
}

const content = fc
  .tuple(
    fc.integer({ min: 1, max: 48 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(5000), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
  )
  .map(([sectors, runs]) => {
    const data = new Uint8Array(sectors * 512);
    for (const [at, length, value] of runs)
      data.fill(value, at % data.length, (at % data.length) + length);
    return data;
  });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('VirtualFixedVhd', () => {
  it('reads a dynamic disk as the bytes of the equivalent fixed VHD, at any offset', async () => {
    await fc.assert(
      fc.asyncProperty(content, fc.nat(), fc.nat(), async (data, a, b) => {
        const disk = await dynamicOf(data);
        const view = new VirtualFixedVhd(disk);
        const sink = new MemoryByteSink();
        await convertDisk(disk, sink, {
          type: 'fixed',
          virtualSize: data.length,
          uniqueId: disk.uniqueId,
          timestamp: view.footerTime,
        });
        const fixed = sink.bytes;
        expect(view.size).toBe(fixed.length);
        const start = a % view.size;
        const end = start + (b % (view.size - start + 1));
        expect(await view.read(start, end - start)).toEqual(fixed.subarray(start, end));
        const streamed = new Uint8Array(view.size);
        let at = 0;
        for await (const chunk of view.stream({ chunkSize: 3000 })) {
          streamed.set(chunk, at);
          at += chunk.length;
        }
        expect(at).toBe(view.size);
        expect(streamed).toEqual(fixed);
      }),
      { numRuns: 50 },
    );
  });

  it('is itself an Azure-compatible fixed VHD when the size is whole MiB', async () => {
    const disk = await dynamicOf(new Uint8Array(1024 * 1024).fill(1, 0, 10));
    expect(await azureCompatibility(new VirtualFixedVhd(disk))).toEqual([]);
  });
});

describe('listExtents', () => {
  it('gives the non-zero ranges of the virtual fixed VHD, footer included', async () => {
    await fc.assert(
      fc.asyncProperty(
        content,
        fc.constantFrom(512, 2048, 4 * 1024 * 1024),
        async (data, maxLength) => {
          const disk = await dynamicOf(data);
          const fixed = await new VirtualFixedVhd(disk).read(0, data.length + 512);
          expect(await collect(listExtents(disk, { maxLength }))).toEqual(
            expectedRanges(fixed, maxLength),
          );
        },
      ),
      { numRuns: 80 },
    );
  });

  it('goes by the BAT alone when asked, and follows differencing chains', async () => {
    const base = new Uint8Array(4 * BLOCK);
    base[10] = 1;
    const parent = await dynamicOf(base);
    expect(await collect(listExtents(parent, { scan: false, includeFooter: false }))).toEqual([
      { offset: 0, length: BLOCK },
    ]);
    const changed = base.slice().fill(2, 3 * BLOCK, 3 * BLOCK + 10);
    const sink = new MemoryByteSink();
    await createDifferencing(parent, rawDisk(new MemoryByteSource(changed)), sink, {
      parentPath: { relativePath: 'p.vhd' },
    });
    const child = await openVhd(sink.toSource(), { parent });
    expect(await collect(listExtents(child))).toEqual([
      { offset: 0, length: 512 },
      { offset: 3 * BLOCK, length: 512 },
      { offset: 4 * BLOCK, length: 512 },
    ]);
  });
});
