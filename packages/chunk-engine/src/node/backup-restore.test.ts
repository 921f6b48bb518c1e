import { execFileSync } from 'node:child_process';
import nodeFs, { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlobCodec } from '../blob/codec.ts';
import { MemoryBlobStore } from '../blob/memory-store.ts';
import { BlobWriter } from '../blob/writer.ts';
import { fromHex, toHex } from '../bytes.ts';
import { type CatalogEntry, encodeTree, type TreeBlob } from '../catalog/format.ts';
import { CatalogReader } from '../catalog/reader.ts';
import { createKeys } from '../crypto/keys.ts';
import { DedupIndex } from '../dedup/index.ts';
import { ChunkEngineError } from '../errors.ts';
import { type BackupOptions, backupDirectory } from './backup.ts';
import { SealPool } from './pool.ts';
import { restoreSnapshot } from './restore.ts';

const chunker = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
const longName = `${'ü'.repeat(100)}-${'x'.repeat(50)}`; // 254 bytes of UTF-8
let work: string;
let source: string;

function pseudoRandom(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function makeTree(root: string) {
  await fs.mkdir(join(root, 'docs/deep/deeper'), { recursive: true });
  await fs.mkdir(join(root, 'empty-dir'));
  await fs.writeFile(join(root, 'empty-file'), '');
  await fs.writeFile(join(root, 'docs/readme.txt'), 'hello\n'.repeat(1000));
  await fs.writeFile(join(root, 'docs/deep/deeper/random.bin'), pseudoRandom(100_000, 1));
  await fs.writeFile(join(root, 'docs/copy-of-random.bin'), pseudoRandom(100_000, 1));
  await fs.writeFile(join(root, longName), 'long name');
  await fs.writeFile(join(root, '日本語 ファイル.txt'), 'unicode');
  await fs.writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o750 });
  await fs.symlink('docs/readme.txt', join(root, 'link-to-readme'));
  await fs.symlink('/nonexistent/target', join(root, 'dangling'));
  await fs.link(join(root, 'docs/readme.txt'), join(root, 'hard-link.txt'));
  const sparse = await fs.open(join(root, 'sparse.img'), 'w');
  await sparse.write(Buffer.from('start'), 0, 5, 0);
  await sparse.write(Buffer.from('end'), 0, 3, 3 * 1024 * 1024);
  await sparse.close();
  await fs.utimes(
    join(root, 'docs/readme.txt'),
    new Date('2020-01-02T03:04:05Z'),
    new Date('2020-01-02T03:04:05Z'),
  );
  await fs.utimes(
    join(root, 'docs'),
    new Date('2019-05-06T07:08:09Z'),
    new Date('2019-05-06T07:08:09Z'),
  );
}

/** Everything restore promises to keep, keyed by relative path. */
async function describeTree(root: string, at = ''): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of (await fs.readdir(join(root, at))).sort()) {
    const path = at === '' ? name : `${at}/${name}`;
    const stat = await fs.lstat(join(root, path));
    const common = { mode: stat.mode & 0o7777, mtimeMs: Math.floor(stat.mtimeMs) };
    if (stat.isSymbolicLink()) out[path] = { link: await fs.readlink(join(root, path)) };
    else if (stat.isDirectory()) {
      out[path] = { dir: true, ...common };
      Object.assign(out, await describeTree(root, path));
    } else
      out[path] = { ...common, content: (await fs.readFile(join(root, path))).toString('base64') };
  }
  return out;
}

/**
 * A snapshot of one directory whose entries a test writes by hand, as no backup would: `entries`
 * gets the id of a stored chunk holding "shared".
 */
async function handWrittenSnapshot(entries: (chunk: string) => CatalogEntry[]) {
  const codec = new BlobCodec();
  const store = new MemoryBlobStore();
  const writer = new BlobWriter(store, codec);
  const chunk = toHex((await writer.write('data', new TextEncoder().encode('shared'))).id);
  const writeTree = async (tree: TreeBlob) =>
    toHex((await writer.write('tree', encodeTree(tree))).id);
  const page = await writeTree({ version: 1, kind: 'page', entries: entries(chunk) });
  const rootId = await writeTree({
    version: 1,
    kind: 'root',
    root: { name: '', type: 'dir', mode: 0o755, mtimeNs: '0', pages: [page] },
  });
  return { store, codec, rootId };
}

/** A backup of `source` sealed on this thread with small chunks, as most tests want it. */
function backupPlain(options: Partial<BackupOptions> = {}) {
  return backupDirectory(source, {
    sink: new MemoryBlobStore(),
    codec: new BlobCodec(),
    chunker,
    workers: 0,
    ...options,
  });
}

beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'chunk-engine-'));
  source = join(work, 'source');
  await fs.mkdir(source);
  await makeTree(source);
});

afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('backup and restore', () => {
  for (const mode of ['plain, sealing on this thread', 'encrypted, in worker threads'] as const) {
    it(`round-trips a tree of every kind of entry (${mode})`, async () => {
      const encrypted = mode.startsWith('encrypted');
      const keys = encrypted
        ? (await createKeys('a passphrase of sixteen+', { scrypt: { N: 1024 } })).keys
        : undefined;
      const codec = new BlobCodec({ keys });
      const store = new MemoryBlobStore();
      const progress: number[] = [];
      const result = await backupDirectory(source, {
        sink: store,
        codec,
        chunker,
        workers: encrypted ? 2 : 0,
        onProgress: (p) => progress.push(p.bytesRead),
      });
      expect(result.skipped).toEqual([]);
      expect(result.stats).toMatchObject({ files: 9, symlinks: 2, directories: 5 });
      expect(result.stats.duplicateBlobs).toBeGreaterThan(0); // the copy and the zero runs dedup
      expect(progress.at(-1)).toBe(result.stats.bytesRead);

      const target = join(work, 'restored');
      const restored = await restoreSnapshot({
        source: store,
        codec,
        rootId: result.rootId,
        target,
      });
      expect(restored.failed).toEqual([]);
      expect(await describeTree(target)).toEqual(await describeTree(source));
      const [a, b] = await Promise.all([
        fs.stat(join(target, 'docs/readme.txt')),
        fs.stat(join(target, 'hard-link.txt')),
      ]);
      expect(a.ino).toBe(b.ino);
      const sparse = await fs.stat(join(target, 'sparse.img'));
      expect(sparse.size).toBe(3 * 1024 * 1024 + 3);
      expect(sparse.blocks * 512).toBeLessThan(1024 * 1024);
    });
  }

  it('spills the chunk refs of a file with many chunks into chunk lists, and restores it', async () => {
    const big = join(work, 'big');
    await fs.mkdir(big);
    const content = pseudoRandom(700_000, 7);
    await fs.writeFile(join(big, 'many-chunks.bin'), content);
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const tiny = { minSize: 64, avgSize: 256, maxSize: 1024 };
    const { rootId } = await backupDirectory(big, {
      sink: store,
      codec,
      chunker: tiny,
      workers: 1,
    });
    const entry = await new CatalogReader(store, codec).find(rootId, 'many-chunks.bin');
    expect(entry).toMatchObject({ type: 'file', size: 700_000, chunkLists: expect.any(Array) });
    const target = join(work, 'big-restored');
    expect((await restoreSnapshot({ source: store, codec, rootId, target })).failed).toEqual([]);
    expect(new Uint8Array(await fs.readFile(join(target, 'many-chunks.bin')))).toEqual(content);
  });

  it('restores a file that ends in zeros to its full length, as a hole', async () => {
    const tail = join(work, 'tail');
    await fs.mkdir(tail);
    await fs.writeFile(join(tail, 'zero-tail.img'), 'head');
    await fs.truncate(join(tail, 'zero-tail.img'), 2 * 1024 * 1024);
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const { rootId } = await backupDirectory(tail, { sink: store, codec, chunker, workers: 0 });
    const target = join(work, 'tail-restored');
    expect((await restoreSnapshot({ source: store, codec, rootId, target })).failed).toEqual([]);
    const restored = await fs.readFile(join(target, 'zero-tail.img'));
    expect(restored.length).toBe(2 * 1024 * 1024);
    expect(restored.subarray(0, 4).toString()).toBe('head');
    expect(restored.subarray(4).every((byte) => byte === 0)).toBe(true);
  });

  it('stores only new blobs in an incremental run and does not read unchanged files', async () => {
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const first = await backupPlain({ sink: store, codec });
    const blobsAfterFirst = store.size;
    await fs.writeFile(join(source, 'docs/new.txt'), 'brand new content\n'.repeat(50));
    const putSpy = vi.spyOn(store, 'put');
    const second = await backupPlain({
      sink: store,
      codec,
      parent: { rootId: first.rootId, source: store },
    });
    expect(second.stats.unchangedFiles).toBe(8);
    expect(second.stats.bytesRead).toBe(50 * 18);
    const putTypes = putSpy.mock.calls.map(([blob]) => blob.type);
    expect(putTypes.filter((t) => t === 'data')).toHaveLength(1);
    expect(store.size).toBe(blobsAfterFirst + putSpy.mock.calls.length);
    // A full re-read finds nothing new.
    putSpy.mockClear();
    const third = await backupPlain({
      sink: store,
      codec,
      parent: { rootId: second.rootId, source: store },
      rereadUnchanged: true,
    });
    expect(third.rootId).toBe(second.rootId);
    expect(putSpy).not.toHaveBeenCalled();
    // Unchanged and not re-read: every directory keeps its pages' ids, unhashed; only the root
    // blob is written (and found stored).
    const fourth = await backupPlain({
      sink: store,
      codec,
      parent: { rootId: third.rootId, source: store },
    });
    expect(fourth.rootId).toBe(second.rootId);
    expect(fourth.stats).toMatchObject({ bytesRead: 0, newBlobs: 0, duplicateBlobs: 1 });
  });

  for (const workers of [0, 2]) {
    it(`seals no chunk of a changed file whose chunks are all stored (${workers} workers)`, async () => {
      const codec = new BlobCodec({
        keys: (await createKeys('a passphrase of sixteen+', { scrypt: { N: 1024 } })).keys,
      });
      const store = new MemoryBlobStore();
      const first = await backupPlain({ sink: store, codec, workers });
      // Same content, new mtime: read again. A new small file and a new streamed (> 4 MiB) file
      // made only of content already stored.
      const random = join(source, 'docs/deep/deeper/random.bin');
      await fs.utimes(random, new Date(), new Date('2021-01-01T00:00:00Z'));
      await fs.writeFile(join(source, 'docs/another-copy.bin'), pseudoRandom(100_000, 1));
      const big = Buffer.concat(Array.from({ length: 50 }, () => pseudoRandom(100_000, 1)));
      await fs.writeFile(join(source, 'big.bin'), big);
      const onceMore = await backupPlain({ sink: store, codec, workers: 0 });
      const sealSpy = vi.spyOn(BlobCodec.prototype, 'seal');
      const poolSealSpy = vi.spyOn(SealPool.prototype, 'seal');
      try {
        const second = await backupPlain({
          sink: store,
          codec,
          workers,
          parent: { rootId: first.rootId, source: store },
        });
        expect(second.stats.bytesRead).toBe(100_000 * 2 + big.length);
        expect(second.stats.duplicateBlobs).toBeGreaterThan(50);
        // Everything, down to the trees, was stored by the run before: nothing is sealed.
        expect(second.rootId).toBe(onceMore.rootId);
        expect(second.stats.newBlobs).toBe(0);
        expect(sealSpy).not.toHaveBeenCalled();
        expect(poolSealSpy).not.toHaveBeenCalled();
      } finally {
        sealSpy.mockRestore();
        poolSealSpy.mockRestore();
      }
    });
  }

  it('dedups against a reloaded index without asking the sink', async () => {
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const index = new DedupIndex();
    await backupPlain({ sink: store, codec, index });
    const reloaded = DedupIndex.deserialize(index.serialize());
    const hasSpy = vi.spyOn(store, 'has');
    const again = await backupPlain({ sink: store, codec, index: reloaded });
    expect(again.stats.newBlobs).toBe(0);
    expect(hasSpy).not.toHaveBeenCalled();
  });

  it('skips and reports unreadable, vanished and special files, and keeps going', async () => {
    execFileSync('mkfifo', [join(source, 'a-fifo')]);
    const realOpen = fs.open;
    vi.spyOn(fs, 'open').mockImplementation(async (path, ...rest) => {
      if (String(path).endsWith('run.sh'))
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return realOpen(path, ...rest);
    });
    const realLstat = nodeFs.lstatSync;
    vi.spyOn(nodeFs, 'lstatSync').mockImplementation(((path: string, options: object) => {
      if (String(path).endsWith('empty-file'))
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return realLstat(path, options);
    }) as typeof nodeFs.lstatSync);
    const result = await backupPlain();
    expect(result.skipped).toEqual([
      { path: 'a-fifo', code: 'FILE_UNSUPPORTED', message: expect.any(String) },
      { path: 'empty-file', code: 'FILE_VANISHED', message: 'vanished while the backup ran' },
      { path: 'run.sh', code: 'FILE_UNREADABLE', message: 'EACCES: permission denied' },
    ]);
    expect(result.stats.files).toBe(7);
  });

  it('skips names that are not UTF-8, which the catalog cannot hold', async () => {
    await fs.writeFile(
      Buffer.concat([Buffer.from(`${source}/bad-`), Buffer.from([0xff, 0xfe])]),
      'x',
    );
    const result = await backupPlain();
    expect(result.skipped).toEqual([
      {
        path: 'bad-\ufffd\ufffd',
        code: 'FILE_UNSUPPORTED',
        message: 'name is not valid UTF-8: skipped',
      },
    ]);
    expect(result.stats.files).toBe(9);
  });

  it('stops on a sink failure, even one with a file-system error code', async () => {
    const store = new MemoryBlobStore();
    vi.spyOn(store, 'put').mockRejectedValue(
      Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }),
    );
    await expect(
      backupDirectory(source, { sink: store, codec: new BlobCodec(), chunker, workers: 0 }),
    ).rejects.toMatchObject({
      code: 'EIO',
    });
  });

  it('restores the rest when a blob is damaged or missing, and fails just those files', async () => {
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const { rootId } = await backupPlain({ sink: store, codec });
    const reader = new CatalogReader(store, codec);
    const readme = await reader.find(rootId, 'docs/readme.txt');
    const unicode = await reader.find(rootId, '日本語 ファイル.txt');
    if (readme.type !== 'file' || unicode.type !== 'file') throw new Error('expected files');
    const damaged = fromHex(readme.chunks![0]!, 32)!;
    const bytes = (await store.get(damaged)).bytes;
    bytes[bytes.length - 1]! ^= 0xff; // the readme chunk is zstd: its stream breaks
    store.replaceBytes(damaged, bytes);
    store.delete(fromHex(unicode.chunks![0]!, 32)!);

    const target = join(work, 'restored');
    const result = await restoreSnapshot({ source: store, codec, rootId, target });
    expect(
      result.failed
        .map(({ path, code }) => ({ path, code }))
        .sort((a, b) => (a.path < b.path ? -1 : 1)),
    ).toEqual([
      { path: 'docs/readme.txt', code: 'BLOB_CORRUPT' },
      { path: 'hard-link.txt', code: 'BLOB_CORRUPT' },
      { path: '日本語 ファイル.txt', code: 'BLOB_NOT_FOUND' },
    ]);
    await expect(fs.stat(join(target, 'docs/readme.txt'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await fs.readFile(join(target, 'docs/deep/deeper/random.bin'))).toEqual(
      Buffer.from(pseudoRandom(100_000, 1)),
    );
    expect(result.stats.files).toBe(6);
  });

  for (const workers of [0, 2]) {
    it(`fails and removes a file of many chunks when one is damaged (${workers} workers)`, async () => {
      const codec = new BlobCodec();
      const store = new MemoryBlobStore();
      const { rootId } = await backupPlain({ sink: store, codec });
      const reader = new CatalogReader(store, codec);
      const random = await reader.find(rootId, 'docs/deep/deeper/random.bin');
      if (random.type !== 'file') throw new Error('expected a file');
      const ids: string[] = [];
      for await (const id of reader.chunkIds(random)) ids.push(id);
      expect(ids.length).toBeGreaterThan(8); // more than one file's chunks written at a time
      const damaged = fromHex(ids[ids.length >> 1]!, 32)!;
      const bytes = (await store.get(damaged)).bytes;
      bytes[bytes.length - 1]! ^= 0xff;
      store.replaceBytes(damaged, bytes);

      const target = join(work, 'restored');
      const result = await restoreSnapshot({ source: store, codec, rootId, target, workers });
      // The copy has the same chunks.
      expect(result.failed.map(({ path }) => path).sort()).toEqual([
        'docs/copy-of-random.bin',
        'docs/deep/deeper/random.bin',
      ]);
      for (const { code } of result.failed) expect(code).toMatch(/^BLOB_/);
      await expect(fs.stat(join(target, 'docs/deep/deeper/random.bin'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
      expect((await fs.stat(join(target, 'sparse.img'))).size).toBe(3 * 1024 * 1024 + 3);
      expect(result.stats.files).toBe(7);
    });
  }

  it('fails a file whose chunks do not add up to its recorded size', async () => {
    const { store, codec, rootId } = await handWrittenSnapshot((chunk) => {
      const file = { type: 'file' as const, mode: 0o644, mtimeNs: '0', chunks: [chunk, chunk] };
      return [
        { ...file, name: 'longer', size: 13 },
        { ...file, name: 'right', size: 12 },
        { ...file, name: 'shorter', size: 11 },
      ];
    });
    for (const workers of [0, 1]) {
      const target = join(work, `sizes-${workers}`);
      const result = await restoreSnapshot({ source: store, codec, rootId, target, workers });
      expect(result.failed.map(({ path, code }) => `${path}: ${code}`).sort()).toEqual([
        'longer: CATALOG_CORRUPT',
        'shorter: CATALOG_CORRUPT',
      ]);
      expect(await fs.readdir(target)).toEqual(['right']);
      expect(await fs.readFile(join(target, 'right'), 'utf8')).toBe('sharedshared');
    }
  });

  it('stops when the target has no room left, keeping the files restored until then', async () => {
    await fs.mkdir(join(source, 'many'));
    for (let i = 0; i < 60; i++) await fs.writeFile(join(source, 'many', `f${i}`), `file ${i}`);
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const { rootId } = await backupPlain({ sink: store, codec });
    const target = join(work, 'full');
    // A disk that fills up after two files: every later write fails for want of room.
    const realOpen = nodeFs.promises.open;
    let opened = 0;
    const open = vi.spyOn(nodeFs.promises, 'open').mockImplementation(async (...args) => {
      const handle = await realOpen(...args);
      if (++opened > 2) {
        handle.write = async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
          });
        };
      }
      return handle;
    });
    try {
      const error = await restoreSnapshot({ source: store, codec, rootId, target, workers: 0 })
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChunkEngineError);
      expect(error).toMatchObject({ code: 'TARGET_FULL', cause: { code: 'ENOSPC' } });
      // Not every file was tried: at most those already under way when the first failed.
      expect(opened).toBeLessThan(20);
      const restored = Number(/stopped after (\d+) files/.exec((error as Error).message)?.[1]);
      // Those are kept: the two written before the disk filled, and any that needed no room.
      const kept = [];
      for (const path of await fs.readdir(target, { recursive: true })) {
        if ((await fs.lstat(join(target, path))).isFile()) kept.push(path);
      }
      expect(kept.length).toBe(restored);
      expect(restored).toBeGreaterThanOrEqual(2);
    } finally {
      open.mockRestore();
    }
  });

  it('keeps a hard link whose recorded first path comes later in the catalog', async () => {
    const { store, codec, rootId } = await handWrittenSnapshot((chunk) => {
      const file = { type: 'file' as const, mode: 0o644, mtimeNs: '0', size: 6, chunks: [chunk] };
      return [
        { ...file, name: 'a-link', hardLink: 'z-first' },
        { ...file, name: 'z-first' },
      ];
    });
    const target = join(work, 'links');
    expect((await restoreSnapshot({ source: store, codec, rootId, target })).failed).toEqual([]);
    const [a, z] = await Promise.all([
      fs.stat(join(target, 'a-link')),
      fs.stat(join(target, 'z-first')),
    ]);
    expect(a.ino).toBe(z.ino);
    expect(await fs.readFile(join(target, 'z-first'), 'utf8')).toBe('shared');
  });

  it('restores a subtree, a single file, and refuses to overwrite unless asked', async () => {
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const { rootId } = await backupPlain({ sink: store, codec });
    const target = join(work, 'sub');
    await restoreSnapshot({ source: store, codec, rootId, target, path: 'docs/deep' });
    expect(await fs.readdir(target)).toEqual(['deeper']);
    await restoreSnapshot({ source: store, codec, rootId, target, path: 'run.sh' });
    expect((await fs.stat(join(target, 'run.sh'))).mode & 0o777).toBe(0o750);
    const again = await restoreSnapshot({ source: store, codec, rootId, target, path: 'run.sh' });
    expect(again.failed).toMatchObject([{ path: 'run.sh', code: 'EEXIST' }]);
    const forced = await restoreSnapshot({
      source: store,
      codec,
      rootId,
      target,
      path: 'run.sh',
      overwrite: true,
    });
    expect(forced.failed).toEqual([]);
    await expect(
      restoreSnapshot({ source: store, codec, rootId, target, path: 'missing' }),
    ).rejects.toMatchObject({
      code: 'PATH_NOT_FOUND',
    });
  });

  it('stops when aborted and leaves what it stored usable', async () => {
    const controller = new AbortController();
    controller.abort();
    const store = new MemoryBlobStore();
    const flush = vi.spyOn(store, 'flush');
    await expect(
      backupDirectory(source, {
        sink: store,
        codec: new BlobCodec(),
        chunker,
        abortSignal: controller.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(flush).toHaveBeenCalled();
  });

  it('stops a restore when aborted', async () => {
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const { rootId } = await backupPlain({ sink: store, codec });
    const controller = new AbortController();
    await expect(
      restoreSnapshot({
        source: store,
        codec,
        rootId,
        target: join(work, 'aborted'),
        abortSignal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keeps to a tiny in-flight budget and gives the same snapshot, and rejects a bad one', async () => {
    const reference = await backupPlain();
    for (const workers of [0, 1]) {
      const tight = await backupPlain({ workers, maxBytesInFlight: 1 });
      expect(tight.rootId).toBe(reference.rootId);
    }
    for (const maxBytesInFlight of [0, -1, 1.5, Number.NaN]) {
      await expect(backupPlain({ maxBytesInFlight })).rejects.toThrow(RangeError);
    }
  });

  it('rejects a root that is not a directory', async () => {
    await expect(
      backupDirectory(join(source, 'run.sh'), {
        sink: new MemoryBlobStore(),
        codec: new BlobCodec(),
      }),
    ).rejects.toThrow(TypeError);
  });
});
