import type { BigIntStats, Dirent } from 'node:fs';
import nodeFs, { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { BlobCodec } from '../blob/codec.ts';
import type { BlobSink, BlobSource } from '../blob/sink.ts';
import { BlobWriter } from '../blob/writer.ts';
import { toHex } from '../bytes.ts';
import {
  type CatalogEntry,
  type DirectoryEntry,
  type EntryBase,
  encodeTree,
  type FileEntry,
  type TreeBlob,
} from '../catalog/format.ts';
import { CatalogReader } from '../catalog/reader.ts';
import { ChunkRefs, type DirectoryPage, DirectoryPages } from '../catalog/writer.ts';
import { type ChunkerOptions, FastCdc } from '../chunker/fastcdc.ts';
import { StreamingChunker } from '../chunker/stream.ts';
import type { DedupIndex } from '../dedup/index.ts';
import { ChunkEngineError, type ChunkEngineErrorCode } from '../errors.ts';
import { SealPool } from './pool.ts';
import { throttledProgress } from './progress.ts';

/** Options of {@link backupDirectory}. */
export interface BackupOptions {
  /** Where new blobs go. */
  sink: BlobSink;
  /** Compression and encryption of blobs (the workers get the same settings). */
  codec: BlobCodec;
  /** Chunk sizes; default 512 KiB / 1 MiB / 8 MiB, level 1. */
  chunker?: ChunkerOptions;
  /** Ids already stored (e.g. reloaded from the last run); filled in as blobs are written. */
  index?: DedupIndex;
  /**
   * The previous snapshot, whose blobs are in `sink`: files unchanged by size, mtime and inode
   * reuse its chunk refs unread, and directory pages that come out the same keep its page ids.
   */
  parent?: { rootId: string; source: BlobSource };
  /** Read every file even when the parent says it is unchanged. */
  rereadUnchanged?: boolean;
  /** Seal threads; 0 seals on this thread. Default: available cores. */
  workers?: number;
  /** Files read at the same time; default 8. */
  concurrency?: number;
  /**
   * Bytes read but not yet stored, across all files, and plaintext queued for the seal workers:
   * the run's memory bound beyond its fixed costs (threads, chunk buffers); default 32 MiB.
   */
  maxBytesInFlight?: number;
  /** Called as files are read and blobs stored (at most every `progressIntervalInMs`), and at the end. */
  onProgress?: (progress: BackupProgress) => void;
  /** Least time between two progress events; default 100 ms. */
  progressIntervalInMs?: number;
  abortSignal?: AbortSignal;
}

/** Counters of a backup run, reported as it goes and at the end. */
export interface BackupProgress {
  files: number;
  directories: number;
  symlinks: number;
  /** Files whose refs came from the parent snapshot without reading them. */
  unchangedFiles: number;
  /** Bytes read from files. */
  bytesRead: number;
  /** Bytes of the unchanged files (not read). */
  bytesUnchanged: number;
  /** Blobs handed to the sink, and their stored size. */
  newBlobs: number;
  bytesStored: number;
  /** Blobs that were already stored. */
  duplicateBlobs: number;
  /** Paths skipped (unreadable, vanished, unsupported type). */
  skipped: number;
}

/** A path the backup left out, and why. */
export interface SkippedPath {
  /** Path relative to the backed-up directory. */
  path: string;
  code: ChunkEngineErrorCode;
  message: string;
}

/** What {@link backupDirectory} made. */
export interface BackupResult {
  /** Hex id of the root tree blob: the snapshot. */
  rootId: string;
  stats: BackupProgress;
  skipped: SkippedPath[];
}

/**
 * Backs up the directory `root` into `options.sink`: chunks every file (FastCDC), seals the
 * chunks in worker threads, stores only blobs not yet stored, and writes the catalog as tree
 * blobs directory by directory. Unreadable and vanished files are skipped and reported, never
 * fatal; symlinks are stored, not followed. Flushes the sink before resolving, and on abort.
 *
 * @throws {@link TypeError} when `root` is not a directory; the sink's errors; `AbortError`.
 */
export async function backupDirectory(root: string, options: BackupOptions): Promise<BackupResult> {
  const rootStat = await fs.stat(root, { bigint: true });
  if (!rootStat.isDirectory()) throw new TypeError(`"root" expected a directory, got ${root}`);
  const maxBytesInFlight = options.maxBytesInFlight ?? defaultMaxBytesInFlight;
  if (!Number.isSafeInteger(maxBytesInFlight) || maxBytesInFlight < 1) {
    throw new RangeError(
      `"maxBytesInFlight" expected a positive integer, got ${String(maxBytesInFlight)}`,
    );
  }
  const workers = options.workers ?? undefined;
  const pool =
    workers === 0
      ? undefined
      : new SealPool(options.codec, {
          workers,
          chunker: options.chunker,
          maxQueuedBytes: maxBytesInFlight,
        });
  const run = new BackupRun(
    options,
    maxBytesInFlight,
    new BlobWriter(options.sink, pool ?? options.codec, options.index),
    pool,
  );
  try {
    const parentRoot = options.parent
      ? await run.parentReader!.root(options.parent.rootId, options)
      : undefined;
    const entry = await run.directory(root, '', rootStat, parentRoot);
    const rootId = await run.writeTree({ version: 1, kind: 'root', root: { ...entry, name: '' } });
    await run.writer.flush(options);
    const stats = run.progress();
    run.progressEvents.flush();
    // Files finish in any order; report skipped paths in a stable one.
    const skipped = run.skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { rootId, stats, skipped };
  } catch (error) {
    // Whatever was put stays usable (the next run dedups against it).
    // (When a put failed the writer's flush rejects; the sink may still keep what came before.)
    await run.writer
      .flush()
      .catch(() => options.sink.flush())
      .catch(() => {});
    throw error;
  } finally {
    await pool?.close();
  }
}

/** Largest single read of a streamed file. */
const readSize = 8 * 1024 * 1024;
/** Files up to this size are read by the seal workers (see `#readInWorker`). */
const workerReadLimit = 4 * 1024 * 1024;

interface ReadResult {
  size: number;
  refs: Pick<FileEntry, 'chunks' | 'chunkLists'>;
}
/**
 * Default bytes read but not yet stored, across all files: the memory bound of a run. Files hold
 * a read slot only while reading, so small files keep the sealers busy instead of waiting for
 * each other's seals (with slots held until stored, workers idled a third of the time). Since
 * known chunks are never sealed, 32 MiB keeps two sealers as busy as 128 MiB did (measured).
 */
const defaultMaxBytesInFlight = 32 * 1024 * 1024;
/** Chunk writes of one file awaited in order; bounds the per-file bookkeeping of huge files. */
const maxWritesPerFile = 256;

class BackupRun {
  readonly writer: BlobWriter;
  readonly parentReader: CatalogReader | undefined;
  readonly skipped: SkippedPath[] = [];
  readonly #options: BackupOptions;
  readonly #cdc: FastCdc;
  readonly #slots: Semaphore;
  /** Subdirectories walked concurrently with their parents. */
  readonly #walkers = new Semaphore(16);
  readonly #budget: Semaphore;
  /** Bytes asked of one file read: at most a quarter of the budget. */
  readonly #readSize: number;
  /**
   * Files streamed at once: each keeps up to a chunk's worth of bytes beyond the budget (the
   * chunker's tail), so as many as a read and a chunk of each fit in the budget, at least one.
   */
  readonly #streams: Semaphore;
  /**
   * First path seen of each inode with several links, and its chunk refs once read (undefined
   * when reading it failed). Files are read concurrently, so later links wait for the first.
   */
  readonly #hardLinks = new Map<
    string,
    { path: string; refs: Promise<Pick<FileEntry, 'chunks' | 'chunkLists'> | undefined> }
  >();
  readonly #counts = {
    files: 0,
    directories: 0,
    symlinks: 0,
    unchangedFiles: 0,
    bytesRead: 0,
    bytesUnchanged: 0,
  };

  readonly #pool: SealPool | undefined;

  constructor(
    options: BackupOptions,
    maxBytesInFlight: number,
    writer: BlobWriter,
    pool: SealPool | undefined,
  ) {
    this.#options = options;
    this.#budget = new Semaphore(maxBytesInFlight);
    this.#readSize = Math.max(64 * 1024, Math.min(readSize, Math.floor(maxBytesInFlight / 4)));
    this.#cdc = new FastCdc(options.chunker);
    this.#streams = new Semaphore(
      Math.max(1, Math.floor(maxBytesInFlight / (this.#readSize + this.#cdc.params.maxSize))),
    );
    this.writer = writer;
    this.#pool = pool;
    this.progressEvents = throttledProgress(
      options.onProgress,
      () => this.progress(),
      options.progressIntervalInMs,
    );
    this.#slots = new Semaphore(options.concurrency ?? 8);
    this.parentReader = options.parent
      ? new CatalogReader(options.parent.source, options.codec)
      : undefined;
  }

  progress(): BackupProgress {
    const { newBlobs, storedBytes, duplicateBlobs } = this.writer.stats;
    return {
      ...this.#counts,
      newBlobs,
      bytesStored: storedBytes,
      duplicateBlobs,
      skipped: this.skipped.length,
    };
  }

  readonly progressEvents: ReturnType<typeof throttledProgress>;

  #report(): void {
    this.progressEvents.report();
  }

  /** Errors of the sink or the sealers: always fatal, even when they look like file errors. */
  readonly #storeErrors = new WeakSet<object>();

  async #store(
    type: 'data' | 'tree',
    plaintext: Uint8Array,
    id?: Uint8Array,
  ): Promise<{ id: Uint8Array }> {
    try {
      return await this.writer.write(type, plaintext, {
        abortSignal: this.#options.abortSignal,
        id,
      });
    } catch (error) {
      if (typeof error === 'object' && error !== null) this.#storeErrors.add(error);
      throw error;
    }
  }

  /** Skips `path` when `error` is about that source path; rethrows errors about the run. */
  #skipOrThrow(path: string, error: unknown): undefined {
    if (isFileSystemError(error) && !this.#storeErrors.has(error as object)) {
      return this.#skip(path, error);
    }
    throw error;
  }

  readonly writeTree = async (tree: TreeBlob): Promise<string> =>
    toHex((await this.#store('tree', encodeTree(tree))).id);

  #skip(path: string, error: unknown): undefined {
    const code = (error as NodeJS.ErrnoException).code;
    const vanished = code === 'ENOENT' || code === 'ENOTDIR';
    this.skipped.push({
      path,
      code:
        error instanceof ChunkEngineError
          ? error.code
          : vanished
            ? 'FILE_VANISHED'
            : 'FILE_UNREADABLE',
      message: vanished ? 'vanished while the backup ran' : (error as Error).message,
    });
    this.#report();
    return undefined;
  }

  async directory(
    fsPath: string,
    path: string,
    stat: BigIntStats,
    parent: DirectoryEntry | undefined,
  ): Promise<DirectoryEntry> {
    const signal = this.#options.abortSignal;
    signal?.throwIfAborted();
    const dirents: Array<{ name: string; dirent: Dirent<Buffer> }> = [];
    // Directory listings and lstat are synchronous: from the page cache one takes ~2.5 µs, an
    // asynchronous one ~35 µs of CPU for its round trip through the thread pool, and an
    // incremental run is mostly these calls.
    for (const dirent of nodeFs.readdirSync(fsPath, { withFileTypes: true, encoding: 'buffer' })) {
      const name = utf8Name(dirent.name);
      const childPath = `${path === '' ? '' : `${path}/`}${name ?? dirent.name.toString()}`;
      if (name === undefined) {
        // The catalog stores names as Unicode text; a byte name that is not UTF-8 cannot be kept.
        this.skipped.push({
          path: childPath,
          code: 'FILE_UNSUPPORTED',
          message: 'name is not valid UTF-8: skipped',
        });
      } else {
        dirents.push({ name, dirent });
      }
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const previous = new Map<string, CatalogEntry>();
    const previousPages: DirectoryPage[] = [];
    if (parent && this.parentReader) {
      for await (const page of this.parentReader.pages(parent, this.#options)) {
        previousPages.push(page);
        for (const entry of page.entries) previous.set(entry.name, entry);
      }
    }
    const pages = new DirectoryPages(this.writeTree, { previous: previousPages });
    // Children are stored in name order whatever order they finish in: files are read
    // concurrently (bounded by the read slots), subdirectories walked alongside (walker slots).
    const queue: Array<Promise<CatalogEntry | undefined>> = [];
    const drain = async (keep: number) => {
      while (queue.length > keep) {
        const entry = await queue.shift()!;
        if (entry) await pages.add(entry);
      }
    };
    try {
      for (const { name, dirent } of dirents) {
        signal?.throwIfAborted();
        await drain(64);
        const childFsPath = join(fsPath, name);
        const childPath = path === '' ? name : `${path}/${name}`;
        const before = previous.get(name);
        if (dirent.isDirectory()) {
          const walk = this.#subdirectory(
            childFsPath,
            childPath,
            before?.type === 'dir' ? before : undefined,
          );
          // Walk it alongside this directory while a walker slot is free, so the sealers never
          // wait at directory boundaries; otherwise walk it now (that never needs a slot, so
          // walks waiting on each other cannot deadlock).
          if (this.#walkers.tryAcquire()) {
            const task = walk().finally(() => this.#walkers.release());
            task.catch(() => {}); // awaited in order by drain()
            queue.push(task);
          } else {
            queue.push(Promise.resolve(await walk()));
          }
        } else {
          await this.#slots.acquire();
          const task = this.#leaf(
            name,
            childFsPath,
            childPath,
            before,
            once(() => this.#slots.release()),
          );
          task.catch(() => {}); // awaited in order by drain(); this only marks it handled early
          queue.push(task);
        }
      }
      await drain(0);
    } catch (error) {
      await Promise.allSettled(queue);
      throw error;
    }
    this.#counts.directories++;
    this.#report();
    return { ...entryBase(dirent(path), stat), type: 'dir', pages: await pages.finish() };
  }

  /** A walk of a subdirectory, to start now or later; skips it when it cannot be read. */
  #subdirectory(
    fsPath: string,
    path: string,
    parent: DirectoryEntry | undefined,
  ): () => Promise<CatalogEntry | undefined> {
    return () => this.#walkSubdirectory(fsPath, path, parent);
  }

  async #walkSubdirectory(
    fsPath: string,
    path: string,
    parent: DirectoryEntry | undefined,
  ): Promise<CatalogEntry | undefined> {
    try {
      const stat = nodeFs.lstatSync(fsPath, { bigint: true });
      if (!stat.isDirectory())
        return this.#skip(path, new Error('changed type while the backup ran'));
      return await this.directory(fsPath, path, stat, parent);
    } catch (error) {
      return this.#skipOrThrow(path, error);
    }
  }

  /** Stores a non-directory entry; calls `doneReading` as soon as it no longer reads the file. */
  async #leaf(
    name: string,
    fsPath: string,
    path: string,
    before: CatalogEntry | undefined,
    doneReading: () => void,
  ): Promise<CatalogEntry | undefined> {
    // Set when this is the first path of a multiply linked inode: hands its refs to the others.
    let settleLink: (refs: Pick<FileEntry, 'chunks' | 'chunkLists'> | undefined) => void = () => {};
    try {
      const stat = nodeFs.lstatSync(fsPath, { bigint: true });
      const base = entryBase(name, stat);
      if (stat.isSymbolicLink()) {
        const target = await fs.readlink(fsPath);
        this.#counts.symlinks++;
        return { ...base, type: 'symlink', target };
      }
      if (!stat.isFile()) {
        const what = stat.isDirectory()
          ? 'a directory that replaced a file'
          : 'not a regular file, directory or symlink';
        this.skipped.push({ path, code: 'FILE_UNSUPPORTED', message: `${what}: skipped` });
        return undefined;
      }
      const entry: FileEntry = {
        ...base,
        type: 'file',
        size: Number(stat.size),
        inode: stat.ino.toString(),
      };
      const linkKey = stat.nlink > 1n ? `${stat.dev}:${stat.ino}` : undefined;
      const linked = linkKey ? this.#hardLinks.get(linkKey) : undefined;
      // Claimed before any await, so that two paths of one inode never both count as the first.
      if (linkKey && !linked) {
        const refs = new Promise<Pick<FileEntry, 'chunks' | 'chunkLists'> | undefined>(
          (resolve) => {
            settleLink = resolve;
          },
        );
        this.#hardLinks.set(linkKey, { path, refs });
      }
      const linkedRefs = await linked?.refs;
      if (linked && linkedRefs) {
        this.#counts.files++;
        return { ...entry, hardLink: linked.path, ...linkedRefs };
      }
      const unchanged =
        !this.#options.rereadUnchanged &&
        before?.type === 'file' &&
        before.size === entry.size &&
        before.mtimeNs === entry.mtimeNs &&
        before.inode === entry.inode;
      let refs: Pick<FileEntry, 'chunks' | 'chunkLists'>;
      if (unchanged) {
        refs = before.chunks ? { chunks: before.chunks } : { chunkLists: before.chunkLists ?? [] };
        this.#counts.unchangedFiles++;
        this.#counts.bytesUnchanged += entry.size;
      } else {
        const read =
          (entry.size <= workerReadLimit &&
            (await this.#readInWorker(fsPath, entry.size, doneReading))) ||
          (await this.#readFile(fsPath, entry.size, doneReading));
        refs = read.refs;
        entry.size = read.size;
      }
      settleLink(refs);
      this.#counts.files++;
      this.#report();
      return { ...entry, ...refs };
    } catch (error) {
      settleLink(undefined);
      return this.#skipOrThrow(path, error);
    } finally {
      doneReading();
    }
  }

  /**
   * Small files are read, chunked and hashed by a pool worker in one message: four async file
   * operations on the event loop cost more CPU than the whole seal of a small file (profiled).
   * Only the chunks not yet stored go back to a worker to be sealed.
   * Undefined without a pool, or when the file grew past the limit (then it is streamed).
   */
  async #readInWorker(
    fsPath: string,
    size: number,
    doneReading: () => void,
  ): Promise<ReadResult | undefined> {
    if (this.#pool === undefined) return undefined;
    await this.#budget.acquire(size);
    try {
      const file = await this.#pool.chunkFile(fsPath, workerReadLimit);
      if (file === undefined) return undefined;
      doneReading();
      this.#counts.bytesRead += file.data.length;
      const writes = file.chunks.map(({ offset, length, id }) =>
        this.#store('data', file.data.subarray(offset, offset + length), id),
      );
      const refs = new ChunkRefs(this.writeTree);
      try {
        for (const write of writes) await refs.push(toHex((await write).id));
      } finally {
        await Promise.allSettled(writes);
      }
      return { size: file.data.length, refs: await refs.finish() };
    } finally {
      this.#budget.release(size);
    }
  }

  async #readFile(
    fsPath: string,
    expectedSize: number,
    doneReading: () => void,
  ): Promise<ReadResult> {
    await this.#streams.acquire();
    try {
      return await this.#streamFile(fsPath, expectedSize, doneReading);
    } finally {
      this.#streams.release();
    }
  }

  async #streamFile(
    fsPath: string,
    expectedSize: number,
    doneReading: () => void,
  ): Promise<ReadResult> {
    const handle = await fs.open(fsPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    const refs = new ChunkRefs(this.writeTree);
    const writes: Array<Promise<{ id: Uint8Array }>> = [];
    const settleOldest = async () => refs.push(toHex((await writes.shift()!).id));
    // Shared buffers: the pool's workers read the chunks in place.
    const chunker = new StreamingChunker(this.#cdc, { shared: this.#pool !== undefined });
    let open = true;
    try {
      let size = 0;
      for (let done = false; !done; ) {
        this.#options.abortSignal?.throwIfAborted();
        // Read straight into the chunker's buffer; the chunks it returns are views into it.
        // The first read asks for one byte more than the file's size, so a short read proves
        // the end; a file that grew meanwhile is read on in larger pieces.
        const length =
          size < expectedSize ? Math.min(this.#readSize, expectedSize - size + 1) : 64 * 1024;
        // Wait for room, but hold the budget only for chunks handed to the writer: bytes the
        // chunker keeps for the next cut (< one chunk, bounded by the stream slots) are not
        // charged, so streams that wait for room never wait on each other's tails.
        await this.#budget.acquire(length);
        this.#budget.release(length);
        const { bytesRead } = await handle.read(chunker.reserve(length), 0, length, size);
        size += bytesRead;
        this.#counts.bytesRead += bytesRead;
        // A short read of a regular file means end of file.
        done = bytesRead < length;
        for (const chunk of chunker.commit(bytesRead, done)) {
          this.#budget.charge(chunk.length);
          const write = this.#store('data', chunk.data);
          write.then(
            () => this.#budget.release(chunk.length),
            () => this.#budget.release(chunk.length),
          );
          writes.push(write);
          if (writes.length > maxWritesPerFile) await settleOldest();
        }
        this.#report();
      }
      open = false;
      await handle.close();
      doneReading();
      while (writes.length > 0) await settleOldest();
      return { size, refs: await refs.finish() };
    } finally {
      await Promise.allSettled(writes);
      if (open) await handle.close();
    }
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8Name(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function entryBase(name: string, stat: BigIntStats): EntryBase {
  return {
    name,
    mode: Number(stat.mode & 0o7777n),
    mtimeNs: stat.mtimeNs.toString(),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
  };
}

function dirent(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const fileSystemErrorCodes = new Set([
  'ENOENT',
  'ENOTDIR',
  'EACCES',
  'EPERM',
  'EIO',
  'ELOOP',
  'ENXIO',
  'ESTALE',
  'EISDIR',
  'ENAMETOOLONG',
]);

function isFileSystemError(error: unknown): boolean {
  return fileSystemErrorCodes.has((error as NodeJS.ErrnoException)?.code ?? '');
}

/** Calls `fn` the first time only. */
function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (!called) {
      called = true;
      fn();
    }
  };
}

/**
 * Counting semaphore (file slots, bytes in flight). A request larger than the whole count is
 * granted when nothing else is held, so it cannot wait forever.
 */
class Semaphore {
  readonly #count: number;
  #free: number;
  readonly #waiting: Array<{ amount: number; grant: () => void }> = [];

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`"concurrency" expected a positive integer, got ${count}`);
    }
    this.#count = count;
    this.#free = count;
  }

  /** Takes `amount` now, even beyond the count (then later requests wait until it is back). */
  charge(amount: number): void {
    this.#free -= amount;
  }

  /** Takes `amount` if it is free right now; never waits. */
  tryAcquire(amount = 1): boolean {
    if (this.#waiting.length > 0 || !this.#fits(amount)) return false;
    this.#free -= amount;
    return true;
  }

  async acquire(amount = 1): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(amount)) {
      this.#free -= amount;
      return;
    }
    await new Promise<void>((grant) => this.#waiting.push({ amount, grant }));
  }

  release(amount = 1): void {
    this.#free += amount;
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.amount)) {
      const next = this.#waiting.shift()!;
      this.#free -= next.amount;
      next.grant();
    }
  }

  #fits(amount: number): boolean {
    return amount <= this.#free || this.#free === this.#count;
  }
}
