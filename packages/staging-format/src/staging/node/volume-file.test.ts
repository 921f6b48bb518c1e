import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStagingFormatError } from '../../errors.ts';
import type { VolumeFile } from '../store/store.ts';
import { DirectVolumeFile, openVolumeFile } from './volume-file.ts';

const MiB = 1024 * 1024;
let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'volume-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const newPath = () => join(dir, `${files++}.vhd`);

/** Deterministic bytes that differ from one file offset to the next. */
function bytesAt(offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = ((offset + i) * 2654435761) >>> 24 || 1;
  return bytes;
}

async function appendAt(file: VolumeFile, lengths: number[]): Promise<void> {
  for (const length of lengths) {
    // Two chunks per call, as the volume writer passes a header and a payload.
    const head = Math.min(length, 40);
    await file.append([bytesAt(file.size, head), bytesAt(file.size + head, length - head)]);
  }
}

async function expectFile(path: string, size: number): Promise<void> {
  expect((await stat(path)).size).toBe(size);
  expect(Buffer.compare(await readFile(path), bytesAt(0, size))).toBe(0);
}

/** A direct handle that refuses writes as some file systems do, or fails after `okWrites`. */
function refusingHandle(code: string, okWrites = 0, real?: Awaited<ReturnType<typeof open>>) {
  let writes = 0;
  const handle = {
    closed: false,
    async writev(chunks: Uint8Array[], position: number) {
      if (writes++ < okWrites && real !== undefined) return real.writev(chunks, position);
      throw Object.assign(new Error(`${code}: refused`), { code });
    },
    async close() {
      handle.closed = true;
    },
  };
  return handle;
}

describe('volume files', () => {
  for (const direct of [true, false]) {
    it(`${direct ? 'direct' : 'buffered'}: appends of any size read back, the file is exact after each sync, and reopening continues it`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(fc.integer({ min: 0, max: 9000 }), fc.integer({ min: 1, max: 9 * MiB })),
            { minLength: 1, maxLength: 6 },
          ),
          fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 4 }),
          async (lengths, more) => {
            const path = newPath();
            let file = await openVolumeFile(path, { create: true, direct });
            await appendAt(file, lengths);
            const size = file.size;
            expect(size).toBe(lengths.reduce((sum, length) => sum + length, 0));
            // Reads see what is still buffered as well as what is written.
            for (const offset of [0, Math.floor(size / 3), Math.max(0, size - 4097)]) {
              const length = Math.min(5000, size - offset);
              expect(Buffer.compare(await file.read(offset, length), bytesAt(offset, length))).toBe(
                0,
              );
            }
            await expect(file.read(size, 1)).rejects.toMatchObject({ code: 'STAGING_IO' });
            await file.sync();
            await expectFile(path, size);
            await file.close();
            file = await openVolumeFile(path, { create: false, direct });
            expect(file.size).toBe(size);
            await appendAt(file, more);
            await file.sync();
            await expectFile(path, file.size);
            await file.close();
            await rm(path);
          },
        ),
        { numRuns: 12 },
      );
    }, 60_000);
  }

  it('writes what is buffered on close, and truncation keeps the bytes before the cut', async () => {
    const path = newPath();
    const file = await openVolumeFile(path, { create: true, direct: true });
    await appendAt(file, [5 * MiB + 123]);
    await file.truncate(4 * MiB + 7);
    expect(file.size).toBe(4 * MiB + 7);
    await appendAt(file, [10_000]);
    await file.close();
    await expectFile(path, 4 * MiB + 7 + 10_000);
  });

  it('goes on through the page cache when the file system refuses direct writes', async () => {
    const path = newPath();
    const plain = await open(path, 'wx+');
    const refusing = refusingHandle('EINVAL');
    const file = await DirectVolumeFile.open(refusing as never, plain, path, 0);
    expect(file.direct).toBe(true);
    await appendAt(file, [3 * MiB, 6 * MiB + 5, 700]);
    await file.sync();
    expect(file.direct).toBe(false);
    expect(refusing.closed).toBe(true);
    await expectFile(path, 9 * MiB + 705);
    await appendAt(file, [MiB]);
    await file.close();
    await expectFile(path, 10 * MiB + 705);
  });

  for (const [errno, code] of [
    ['ENOSPC', 'STAGING_FULL'],
    ['EDQUOT', 'STAGING_FULL'],
    ['EIO', 'STAGING_IO'],
  ] as const) {
    it(`reports a write failing with ${errno} as ${code}, keeps what was synced, and closes without writing`, async () => {
      const path = newPath();
      const plain = await open(path, 'wx+');
      const real = await open(path, 'r+');
      const failing = refusingHandle(errno, 1, real);
      const file = await DirectVolumeFile.open(failing as never, plain, path, 0);
      await appendAt(file, [1000]);
      await file.sync(); // the one write that succeeds
      let failure: unknown;
      try {
        await appendAt(file, [20 * MiB]);
        await file.sync();
      } catch (error) {
        failure = error;
      }
      expect(isStagingFormatError(failure) && failure.code).toBe(code);
      expect((failure as Error).message).toContain(errno);
      expect((failure as { path?: string }).path).toBe(path);
      await file.close();
      await real.close();
      await expectFile(path, 1000);
    });
  }
});
