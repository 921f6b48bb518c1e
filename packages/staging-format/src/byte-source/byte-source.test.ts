import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStagingFormatError, StagingFormatError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { FileByteSource } from './file.ts';
import { FileByteSink } from './file-sink.ts';
import { MemoryByteSource } from './memory.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'byte-source-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
}

// File sources read up to `syncReadLimit` bytes synchronously, larger ranges asynchronously:
// both paths must behave the same.
const fileKinds = { 'sync file': 128 * 1024, 'async file': 0 } as const;

async function makeSource(kind: string, bytes: Uint8Array, name: string): Promise<ByteSource> {
  if (kind === 'memory') return new MemoryByteSource(bytes);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return FileByteSource.open(path, { syncReadLimit: fileKinds[kind as keyof typeof fileKinds] });
}

describe.each(['memory', ...Object.keys(fileKinds)])('%s source', (kind) => {
  const bytes = pattern(10_000);
  let source: ByteSource;
  beforeAll(async () => {
    source = await makeSource(kind, bytes, `${kind}.bin`);
  });
  afterAll(() => source.close());

  it('reports its size and reads exact ranges, including empty ones', async () => {
    expect(source.size).toBe(10_000);
    expect(await source.read(0, 0)).toEqual(new Uint8Array(0));
    expect(await source.read(9_990, 10)).toEqual(bytes.subarray(9_990));
    expect(await source.read(10_000, 0)).toEqual(new Uint8Array(0));
  });

  it("reads into buffers of the caller's own, which share memory with nothing else", async () => {
    const first = await source.read(100, 50);
    const second = await source.read(100, 50);
    first.fill(0);
    expect(second).toEqual(bytes.subarray(100, 150));
    expect(await source.read(100, 50)).toEqual(bytes.subarray(100, 150));
    expect(first.buffer).not.toBe(second.buffer);
  });

  it('rejects ranges past the end with a typed error carrying the offset', async () => {
    const error = await source.read(9_999, 2).catch((e: unknown) => e);
    expect(isStagingFormatError(error, 'SOURCE_OUT_OF_RANGE')).toBe(true);
    expect((error as StagingFormatError).offset).toBe(9_999);
    await expect(source.read(Number.MAX_SAFE_INTEGER, 1)).rejects.toMatchObject({
      code: 'SOURCE_OUT_OF_RANGE',
    });
  });

  it('rejects bad arguments with built-in errors', async () => {
    await expect(source.read(-1, 1)).rejects.toBeInstanceOf(RangeError);
    await expect(source.read(0.5, 1)).rejects.toBeInstanceOf(RangeError);
    await expect(source.read(0, Number.NaN)).rejects.toBeInstanceOf(RangeError);
    await expect(source.read('0' as unknown as number, 1)).rejects.toBeInstanceOf(TypeError);
  });

  it('honours an aborted signal', async () => {
    await expect(source.read(0, 1, { abortSignal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('matches a plain slice for any in-range read', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(10_000), fc.nat(10_000), async (a, b) => {
        const [offset, end] = a <= b ? [a, b] : [b, a];
        expect(await source.read(offset, end - offset)).toEqual(bytes.subarray(offset, end));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses reads after close, and close is idempotent', async () => {
    const own = await makeSource(kind, bytes, `${kind}-closed.bin`);
    await own.close();
    await own.close();
    await expect(own.read(0, 1)).rejects.toMatchObject({ code: 'SOURCE_CLOSED' });
  });
});

describe('FileByteSource', () => {
  it.each(Object.entries(fileKinds))(
    'reports a file truncated after opening as a short read at the offset where data ended (%s)',
    async (_kind, syncReadLimit) => {
      const path = join(dir, `shrinks-${syncReadLimit}.bin`);
      await writeFile(path, pattern(8192));
      const source = await FileByteSource.open(path, { syncReadLimit });
      await truncate(path, 5000);
      const error = await source.read(4096, 4096).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StagingFormatError);
      expect(error).toMatchObject({ code: 'SOURCE_SHORT_READ', offset: 5000, path });
      await source.close();
    },
  );

  it('reads ranges above syncReadLimit asynchronously, and the same bytes', async () => {
    const bytes = pattern(300_000);
    const path = join(dir, 'limit.bin');
    await writeFile(path, bytes);
    const source = await FileByteSource.open(path, { syncReadLimit: 1000 });
    expect(await source.read(0, 1000)).toEqual(bytes.subarray(0, 1000));
    expect(await source.read(5, 299_995)).toEqual(bytes.subarray(5));
    await source.close();
  });

  it('rejects a bad syncReadLimit before opening anything', async () => {
    for (const syncReadLimit of [-1, 0.5, Number.NaN, '1' as unknown as number]) {
      await expect(FileByteSource.open(join(dir, 'absent'), { syncReadLimit })).rejects.toThrow(
        RangeError,
      );
    }
  });

  it('gives SOURCE_IO for missing files and directories', async () => {
    await expect(FileByteSource.open(join(dir, 'absent'))).rejects.toMatchObject({
      code: 'SOURCE_IO',
    });
    await expect(FileByteSource.open(dir)).rejects.toMatchObject({ code: 'SOURCE_IO', path: dir });
  });
});

describe('FileByteSink', () => {
  it('writes parts back to back with writev, and plain writes anywhere', async () => {
    const path = join(dir, 'sink.bin');
    const sink = await FileByteSink.open(path, 'create');
    await sink.writev(10, [pattern(3), new Uint8Array(0), pattern(5).reverse()]);
    await sink.write(0, Uint8Array.of(9));
    await sink.truncate(40);
    await sink.sync();
    await sink.close();
    const bytes = new Uint8Array(await readFile(path));
    expect(bytes.length).toBe(40);
    expect(bytes[0]).toBe(9);
    expect(bytes.subarray(10, 18)).toEqual(
      Uint8Array.from([...pattern(3), ...pattern(5).reverse()]),
    );
    await expect(FileByteSink.open(path, 'create')).rejects.toMatchObject({
      code: 'SOURCE_IO',
      path,
    });
    await expect(sink.write(0, Uint8Array.of(1))).rejects.toMatchObject({ code: 'SOURCE_CLOSED' });
  });

  it("'overwrite' empties an existing file in place (same inode) or creates a missing one", async () => {
    const path = join(dir, 'overwritten.bin');
    await writeFile(path, pattern(10_000));
    const before = await stat(path);
    const sink = await FileByteSink.open(path, 'overwrite');
    await sink.write(4, Uint8Array.of(1, 2, 3));
    await sink.close();
    const after = await stat(path);
    expect(after.ino).toBe(before.ino);
    expect(new Uint8Array(await readFile(path))).toEqual(Uint8Array.of(0, 0, 0, 0, 1, 2, 3));
    const fresh = join(dir, 'fresh.bin');
    await (await FileByteSink.open(fresh, 'overwrite')).close();
    expect((await stat(fresh)).size).toBe(0);
    await expect(FileByteSink.open(dir, 'overwrite')).rejects.toMatchObject({
      code: 'SOURCE_IO',
      path: dir,
    });
  });
});
