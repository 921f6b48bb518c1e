import { mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BlobCodec } from '../blob/codec.ts';
import { MemoryBlobStore } from '../blob/memory-store.ts';
import { BlobWriter } from '../blob/writer.ts';
import { toHex } from '../bytes.ts';
import { CatalogReader } from '../catalog/reader.ts';
import { FastCdc } from '../chunker/fastcdc.ts';
import { createKeys } from '../crypto/keys.ts';
import { ChunkEngineError } from '../errors.ts';
import { SealPool } from './pool.ts';

const { keys } = await createKeys('pool test passphrase', { scrypt: { N: 1024 } });

describe('SealPool', () => {
  it('seals in worker threads what the codec opens, within its byte budget', async () => {
    const codec = new BlobCodec({ keys });
    const pool = new SealPool(codec, { workers: 2, maxQueuedBytes: 100_000 });
    try {
      const buffer = new TextEncoder().encode('abcdefgh'.repeat(40_000));
      // Views into one buffer: each must be sent alone, and the buffer must stay usable.
      const views = Array.from({ length: 16 }, (_, i) =>
        buffer.subarray(i * 20_000, (i + 1) * 20_000 - i),
      );
      const blobs = await Promise.all(views.map((view) => pool.seal('data', view)));
      for (const [i, blob] of blobs.entries()) {
        expect(blob.id).toEqual(codec.blobId(views[i]!));
        expect(await codec.open(blob)).toEqual(views[i]);
      }
      expect(buffer.byteLength).toBe(320_000);
      // An id given by the caller names the blob (it is not hashed again).
      const given = await pool.seal('data', views[0]!, blobs[0]!.id);
      expect(given.id).toEqual(blobs[0]!.id);
      expect(await codec.open(given)).toEqual(views[0]);
      const whole = new Uint8Array(1000).fill(3);
      await pool.seal('tree', whole);
      expect(whole.byteLength).toBe(1000);
      // Views of shared memory are read in place by the worker, and stay the caller's.
      const shared = new Uint8Array(new SharedArrayBuffer(buffer.length));
      shared.set(buffer);
      const sharedView = shared.subarray(5, 60_005);
      const fromShared = await pool.seal('data', sharedView);
      expect(await codec.open(fromShared)).toEqual(buffer.subarray(5, 60_005));
      expect(sharedView).toEqual(buffer.subarray(5, 60_005));
    } finally {
      await pool.close();
    }
  });

  it('reads, chunks and hashes a small file in a worker, or declines a file over the limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seal-pool-'));
    const content = crypto.getRandomValues(new Uint8Array(50_000));
    await writeFile(join(dir, 'f'), content);
    const chunker = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
    const codec = new BlobCodec({ keys });
    const pool = new SealPool(codec, { workers: 1, chunker });
    try {
      const file = await pool.chunkFile(join(dir, 'f'), 100_000);
      const expected = [...new FastCdc(chunker).chunks(content)].map((c) => ({
        offset: c.offset,
        length: c.length,
        id: codec.blobId(c.data),
      }));
      expect(file?.data).toEqual(content);
      expect(file?.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(file?.chunks).toEqual(expected);
      await expect(pool.chunkFile(join(dir, 'f'), 49_999)).resolves.toBeUndefined();
      await expect(pool.chunkFile(join(dir, 'missing'), 10)).rejects.toMatchObject({
        code: 'ENOENT',
      });
      await symlink(join(dir, 'f'), join(dir, 'link'));
      await expect(pool.chunkFile(join(dir, 'link'), 100_000)).rejects.toMatchObject({
        code: 'ELOOP',
      });
    } finally {
      await pool.close();
      await rm(dir, { recursive: true });
    }
  });

  it('opens blobs on a worker, with the typed errors of the codec', async () => {
    const codec = new BlobCodec({ keys });
    const pool = new SealPool(codec, { workers: 1 });
    try {
      const plaintext = new TextEncoder().encode('restore me '.repeat(1000));
      const blob = await codec.seal('data', plaintext);
      expect(await pool.open(blob)).toEqual(plaintext);
      const bytes = blob.bytes.slice();
      bytes[30]! ^= 1;
      const error = await pool.open({ ...blob, bytes }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChunkEngineError);
      expect(error).toMatchObject({ code: 'BLOB_AUTH_FAILED', blobId: toHex(blob.id) });
    } finally {
      await pool.close();
    }
  });

  it('opens the blobs a catalog reader fetches when given as its opener', async () => {
    const codec = new BlobCodec({ keys });
    const store = new MemoryBlobStore();
    const plaintext = new TextEncoder().encode('read through the pool '.repeat(300));
    const { id } = await new BlobWriter(store, codec).write('data', plaintext);
    const pool = new SealPool(codec, { workers: 1 });
    try {
      const reader = new CatalogReader(store, codec);
      const open = vi.spyOn(pool, 'open');
      expect(await reader.readBlob(toHex(id), { opener: pool })).toEqual(plaintext);
      // Fetched for this read alone: its bytes move to the worker.
      expect(open).toHaveBeenCalledWith(expect.objectContaining({ id }), { transfer: true });
      const bytes = (await store.get(id)).bytes.slice();
      bytes[bytes.length - 1]! ^= 1;
      store.replaceBytes(id, bytes);
      await expect(reader.readBlob(toHex(id), { opener: pool })).rejects.toMatchObject({
        name: 'ChunkEngineError',
        code: 'BLOB_AUTH_FAILED',
      });
    } finally {
      await pool.close();
    }
  });

  it('moves the bytes of blobs handed over to open or restore, and copies the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seal-pool-'));
    const codec = new BlobCodec({ keys });
    const pool = new SealPool(codec, { workers: 1 });
    try {
      const plaintext = new TextEncoder().encode('moved, not copied '.repeat(500));
      const sealed = await codec.seal('data', plaintext);
      const copy = () => ({ ...sealed, bytes: sealed.bytes.slice() });
      const kept = copy();
      expect(await pool.open(kept)).toEqual(plaintext);
      expect(kept.bytes.length).toBe(sealed.bytes.length);
      const handedOver = copy();
      expect(await pool.open(handedOver, { transfer: true })).toEqual(plaintext);
      expect(handedOver.bytes.buffer.byteLength).toBe(0);
      // Node's pool of small buffers cannot move: copied even when handed over.
      const small = await codec.seal('data', new TextEncoder().encode('small'));
      const pooled = { ...small, bytes: Buffer.from(small.bytes) };
      expect(pooled.bytes.buffer.byteLength).toBeGreaterThan(pooled.bytes.length);
      expect(await pool.open(pooled, { transfer: true })).toEqual(
        new TextEncoder().encode('small'),
      );
      expect(await codec.open(pooled)).toEqual(new TextEncoder().encode('small'));
      const restored = copy();
      const meta = { size: plaintext.length, mode: 0o640, mtimeSeconds: 1e9, overwrite: false };
      const file = { blob: restored, path: join(dir, 'restored'), meta };
      expect(await pool.restoreFiles([file], { transfer: true })).toEqual([undefined]);
      expect(restored.bytes.buffer.byteLength).toBe(0);
      expect(new Uint8Array(await readFile(join(dir, 'restored')))).toEqual(plaintext);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true });
    }
  });

  it('restores many one-chunk files in one message, failing only the bad ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seal-pool-'));
    const codec = new BlobCodec({ keys });
    const pool = new SealPool(codec, { workers: 1 });
    try {
      const contents = ['first', 'damaged', '', 'exists', 'wrong size', 'last'].map((text) =>
        new TextEncoder().encode(text.repeat(100)),
      );
      const files = await Promise.all(
        contents.map(async (content, i) => ({
          blob: await codec.seal('data', content),
          path: join(dir, `f${i}`),
          meta: { size: content.length, mode: 0o600, mtimeSeconds: 1e9, overwrite: false },
        })),
      );
      files[1]!.blob.bytes[20]! ^= 1;
      await writeFile(files[3]!.path, 'in the way');
      files[4]!.meta.size += 1;
      const failures = await pool.restoreFiles(files);
      expect(failures[1]).toMatchObject({ name: 'ChunkEngineError', code: 'BLOB_AUTH_FAILED' });
      expect(failures[3]).toMatchObject({ code: 'EEXIST' });
      expect(failures[4]).toMatchObject({ code: 'CATALOG_CORRUPT' });
      for (const i of [0, 2, 5]) {
        expect(failures[i]).toBeUndefined();
        expect(new Uint8Array(await readFile(files[i]!.path))).toEqual(contents[i]);
      }
      // A failed file leaves nothing behind; one that was in the way is left alone.
      await expect(readFile(files[1]!.path)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(readFile(files[4]!.path)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readFile(files[3]!.path, 'utf8')).toBe('in the way');
      await expect(pool.restoreFiles([])).resolves.toEqual([]);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true });
    }
  });

  it('writes chunks into an existing file at their places, leaving all-zero ones as holes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seal-pool-'));
    const codec = new BlobCodec({ keys });
    const pool = new SealPool(codec, { workers: 2 });
    try {
      const path = join(dir, 'large');
      await writeFile(path, '');
      const head = new TextEncoder().encode('head '.repeat(2000));
      const zeros = new Uint8Array(64 * 1024);
      const tail = new TextEncoder().encode('tail');
      const [headBlob, zeroBlob, tailBlob] = await Promise.all(
        [head, zeros, tail].map((chunk) => codec.seal('data', chunk)),
      );
      // Out of order and at once, as a restore sends them.
      const tailAt = head.length + zeros.length;
      await Promise.all([
        pool.writeChunk(tailBlob!, path, tailAt, { transfer: true }),
        pool.writeChunk(zeroBlob!, path, head.length),
        pool.writeChunk(headBlob!, path, 0),
      ]);
      expect(tailBlob!.bytes.buffer.byteLength).toBe(0);
      const written = new Uint8Array(await readFile(path));
      expect(written.length).toBe(tailAt + tail.length);
      expect(written.subarray(0, head.length)).toEqual(head);
      expect(written.subarray(head.length, tailAt).every((byte) => byte === 0)).toBe(true);
      expect(written.subarray(tailAt)).toEqual(tail);
      // Nothing written for the zeros: when the file ends there, only the length is set.
      const holes = join(dir, 'holes');
      await writeFile(holes, '');
      await pool.writeChunk(zeroBlob!, holes, 0);
      expect((await readFile(holes)).length).toBe(0);

      const damaged = { ...headBlob!, bytes: headBlob!.bytes.slice() };
      damaged.bytes[30]! ^= 1;
      await expect(pool.writeChunk(damaged, path, 0)).rejects.toMatchObject({
        name: 'ChunkEngineError',
        code: 'BLOB_AUTH_FAILED',
      });
      // The file must exist already: a chunk never creates one.
      const tailAgain = await codec.seal('data', tail);
      await expect(pool.writeChunk(tailAgain, join(dir, 'gone'), 0)).rejects.toMatchObject({
        code: 'ENOENT',
      });
      // Bytes moved away already cannot be sent again.
      await expect(pool.writeChunk(tailBlob!, path, tailAt)).rejects.toMatchObject({
        name: 'DataCloneError',
      });
      await symlink(path, join(dir, 'link'));
      await expect(pool.writeChunk(headBlob!, join(dir, 'link'), 0)).rejects.toMatchObject({
        code: 'ELOOP',
      });
    } finally {
      await pool.close();
      await rm(dir, { recursive: true });
    }
  });

  it('checks many blobs in one message, naming only the damaged ones', async () => {
    const codec = new BlobCodec({ keys });
    const pool = new SealPool(codec, { workers: 1 });
    try {
      const blobs = await Promise.all(
        ['intact', 'flipped', 'renamed', 'also intact'].map((text) =>
          codec.seal('data', new TextEncoder().encode(text.repeat(1000))),
        ),
      );
      blobs[1]!.bytes[30]! ^= 1;
      blobs[2] = { ...blobs[2]!, id: blobs[0]!.id };
      const handedOver = blobs[3]!;
      const failures = await pool.checkBlobs(blobs, { transfer: true });
      expect(failures[0]).toBeUndefined();
      expect(failures[1]).toMatchObject({ name: 'ChunkEngineError', code: 'BLOB_AUTH_FAILED' });
      expect(failures[2]).toMatchObject({ name: 'ChunkEngineError', code: 'BLOB_AUTH_FAILED' });
      expect(failures[3]).toBeUndefined();
      expect(handedOver.bytes.buffer.byteLength).toBe(0);
      await expect(pool.checkBlobs([])).resolves.toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('gives back the budget of a request it could not send', async () => {
    const codec = new BlobCodec();
    const pool = new SealPool(codec, { workers: 1, maxQueuedBytes: 10_000 });
    try {
      const blob = await codec.seal('data', crypto.getRandomValues(new Uint8Array(9_000)));
      const moved = { ...blob, bytes: blob.bytes.slice() };
      // Its id a view of a buffer moved away: cloning the request fails.
      const unsendable = { ...blob, id: moved.bytes.subarray(0, 32) };
      await pool.open(moved, { transfer: true });
      await expect(pool.open(unsendable)).rejects.toMatchObject({ name: 'DataCloneError' });
      await expect(pool.open(blob)).resolves.toHaveLength(9_000);
      await expect(pool.open(blob)).resolves.toHaveLength(9_000);
    } finally {
      await pool.close();
    }
  });

  it('passes errors from a worker back, and fails every seal once closed', async () => {
    const pool = new SealPool(new BlobCodec(), { workers: 1 });
    await expect(pool.seal('data', new Uint8Array(64 * 1024 * 1024 + 1))).rejects.toMatchObject({
      name: 'RangeError',
    });
    await pool.close();
    await expect(pool.seal('data', new Uint8Array(10))).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
  });

  // Linux gives each thread its own priority: the sealers run below the thread that dispatches.
  it.runIf(process.platform === 'linux')(
    'runs its sealers at a lower priority than the dispatching thread',
    async () => {
      const before = new Set(await readdir('/proc/self/task'));
      const pool = new SealPool(new BlobCodec(), { workers: 1 });
      try {
        await pool.seal('data', new Uint8Array(10));
        const started = (await readdir('/proc/self/task')).filter((tid) => !before.has(tid));
        const niceOf = async (tid: string) => {
          const stat = await readFile(`/proc/self/task/${tid}/stat`, 'latin1');
          // Fields after the command name's closing parenthesis start at the 3rd; nice is the 19th.
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        };
        const own = await niceOf((await readlink('/proc/thread-self')).split('/').pop()!);
        const niceness = await Promise.all(started.map(niceOf));
        expect(niceness).toContain(Math.min(19, own + 10));
      } finally {
        await pool.close();
      }
    },
  );

  it('rejects a bad worker count', () => {
    expect(() => new SealPool(new BlobCodec(), { workers: 0 })).toThrow(RangeError);
  });
});
