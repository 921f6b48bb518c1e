import { describe, expect, it } from 'vitest';
import { MemoryByteSource } from '../byte-source/memory.ts';
import { MemoryByteSink } from '../byte-source/memory-sink.ts';
import { azureCompatibility, checkVhd } from './check.ts';
import { encodeFooter, newFooter } from './footer.ts';
import { DynamicVhdWriter } from './writer.ts';

function fixedVhd(virtualSize: number, creatorApplication?: string): Uint8Array {
  const file = new Uint8Array(virtualSize + 512);
  file.set(
    encodeFooter(
      newFooter({
        virtualSize,
        diskType: 'fixed',
        ...(creatorApplication ? { creatorApplication } : {}),
      }),
    ),
    virtualSize,
  );
  return file;
}

const codes = (problems: Array<{ code: string }>) => problems.map((p) => p.code);

describe('checkVhd on fixed disks', () => {
  it('finds nothing wrong with a fresh fixed VHD', async () => {
    expect(await checkVhd(new MemoryByteSource(fixedVhd(1024 * 1024)))).toEqual([]);
  });

  it('reports a bad footer checksum with its offset', async () => {
    const file = fixedVhd(1024 * 1024);
    file[1024 * 1024 + 100] ^= 1;
    expect(await checkVhd(new MemoryByteSource(file))).toEqual([
      expect.objectContaining({ code: 'VHD_BAD_CHECKSUM', offset: 1024 * 1024 + 64 }),
    ]);
  });

  it('reports files that are no VHD, or too short to be one', async () => {
    expect(codes(await checkVhd(new MemoryByteSource(new Uint8Array(4096))))).toEqual([
      'VHD_BAD_COOKIE',
    ]);
    expect(codes(await checkVhd(new MemoryByteSource(new Uint8Array(10))))).toEqual([
      'VHD_TRUNCATED',
    ]);
  });

  it('reads a 511-byte legacy footer, with a warning', async () => {
    const file = fixedVhd(4096).subarray(0, 4096 + 511);
    expect(await checkVhd(new MemoryByteSource(file))).toEqual([
      expect.objectContaining({ code: 'VHD_SHORT_FOOTER', severity: 'warning' }),
    ]);
  });
});

describe('azureCompatibility', () => {
  it('accepts a fixed VHD of whole MiB', async () => {
    expect(await azureCompatibility(new MemoryByteSource(fixedVhd(3 * 1024 * 1024)))).toEqual([]);
  });

  it('lists every rule a file breaks', async () => {
    const problems = await azureCompatibility(
      new MemoryByteSource(fixedVhd(1024 * 1024 + 512, 'vpc ')),
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/whole number of MiB/),
      expect.stringMatching(/geometry/),
    ]);
    expect(codes(problems)).toEqual(['VHD_NOT_AZURE_COMPATIBLE', 'VHD_NOT_AZURE_COMPATIBLE']);
  });

  it('applies the managed-disk size range on request', async () => {
    const source = new MemoryByteSource(fixedVhd(1024 * 1024));
    expect(await azureCompatibility(source)).toEqual([]);
    expect(codes(await azureCompatibility(source, { target: 'managed-disk' }))).toEqual([
      'VHD_NOT_AZURE_COMPATIBLE',
    ]);
  });
});

describe('checkVhd on hostile files', () => {
  it('stops listing after 200 problems, with one closing entry', async () => {
    // A dynamic disk of 1000 4 KiB blocks whose BAT entries all point past the end of the file.
    const blockSize = 4096;
    const entries = 1000;
    const sink = new MemoryByteSink();
    const writer = new DynamicVhdWriter(sink, { virtualSize: entries * blockSize, blockSize });
    await writer.finish();
    const bytes = sink.bytes.slice();
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < entries; i++) view.setUint32(1536 + i * 4, 0x00ff_0000 + i);
    const problems = await checkVhd(new MemoryByteSource(bytes));
    expect(problems).toHaveLength(201);
    expect(problems[0]).toMatchObject({
      code: 'VHD_BAT_OUT_OF_RANGE',
      offset: 1536,
      severity: 'error',
    });
    expect(problems[200]).toMatchObject({
      code: 'VHD_BAT_OUT_OF_RANGE',
      message: expect.stringMatching(/not listed/),
    });
  });
});
