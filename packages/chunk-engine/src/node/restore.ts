import { chmodSync, promises as fs, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobCodec } from '../blob/codec.ts';
import type { BlobSource, SinkBlob } from '../blob/sink.ts';
import type { CatalogEntry, FileEntry } from '../catalog/format.ts';
import { CatalogReader, splitPath } from '../catalog/reader.ts';
import { ChunkEngineError, type ChunkEngineErrorCode } from '../errors.ts';
import { isAllZero, type RestoredFileMeta, restoredFileFlags } from './file-writing.ts';
import { type RestoredFile, SealPool } from './pool.ts';
import { throttledProgress } from './progress.ts';

/** Options of {@link restoreSnapshot}. */
export interface RestoreOptions {
  source: BlobSource;
  codec: BlobCodec;
  /** Hex id of the snapshot's root tree blob. */
  rootId: string;
  /** Directory to restore into; created when missing. */
  target: string;
  /**
   * Subtree to restore (`/`-separated, from the snapshot root); default the whole snapshot. A
   * directory's contents go into `target`; a file or symlink goes to `target/<name>`.
   */
  path?: string;
  /** Replace files that exist in `target`; by default an existing file fails that file. */
  overwrite?: boolean;
  /** Files written at the same time; default 8. */
  concurrency?: number;
  /** Threads that open (decrypt, decompress, verify) data blobs; 0 opens them on this thread. Default: available cores. */
  workers?: number;
  /** Called as files are restored (at most every `progressIntervalInMs`), and at the end. */
  onProgress?: (progress: RestoreProgress) => void;
  /** Least time between two progress events; default 100 ms. */
  progressIntervalInMs?: number;
  abortSignal?: AbortSignal;
}

/** Counters of a restore. */
export interface RestoreProgress {
  files: number;
  directories: number;
  symlinks: number;
  /** File bytes written (holes of sparse files count as written). */
  bytesWritten: number;
  failed: number;
}

/** A path that could not be restored, and why. */
export interface FailedPath {
  path: string;
  code: string;
  message: string;
}

/** What {@link restoreSnapshot} did. */
export interface RestoreResult {
  stats: RestoreProgress;
  failed: FailedPath[];
}

/**
 * Restores a snapshot (or a subtree) into a directory: verifies every blob (authentication and
 * id), writes sparse files sparsely (all-zero chunks become holes), restores symlinks without
 * following them, hard links, permission bits and mtimes. A damaged or missing blob fails the
 * file it belongs to (removed, listed in `failed`); everything else is restored.
 *
 * @throws {@link ChunkEngineError} when the root or the subtree cannot be read (`PATH_NOT_FOUND`,
 *   `BLOB_*`, `CATALOG_CORRUPT`); `TARGET_FULL` when the target has no room left (the files
 *   restored until then are kept, no other file is started); `AbortError`.
 */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const reader = new CatalogReader(options.source, options.codec);
  const stats: RestoreProgress = {
    files: 0,
    directories: 0,
    symlinks: 0,
    bytesWritten: 0,
    failed: 0,
  };
  const failed: FailedPath[] = [];
  const progress = throttledProgress(
    options.onProgress,
    () => ({ ...stats }),
    options.progressIntervalInMs,
  );
  const base = splitPath(options.path ?? '');
  const slots = Math.max(1, options.concurrency ?? 8);
  const pool =
    options.workers === 0 ? undefined : new SealPool(options.codec, { workers: options.workers });
  const running = new Set<Promise<void>>();
  // Directories get their mode and mtime once every file is written, in reverse walk order so that
  // children come before their parents (finishing each as it closes would leave the write slots
  // idle at every directory's end).
  const directories: Array<{ path: string; fsPath: string; entry: CatalogEntry }> = [];
  /** Snapshot path of a hard link's first path → where its content was written already. */
  const laterLinks = new Map<string, string>();
  /** The first failure for want of room in the target: no file is started after it. */
  let noRoom: { path: string; code: string; error: unknown } | undefined;
  const fail = (path: string, error: unknown) => {
    const code =
      error instanceof ChunkEngineError
        ? error.code
        : ((error as NodeJS.ErrnoException).code ?? 'ERROR');
    if (noRoom === undefined && (code === 'ENOSPC' || code === 'EDQUOT')) {
      noRoom = { path, code, error };
    }
    failed.push({ path, code: code as ChunkEngineErrorCode, message: (error as Error).message });
    stats.failed++;
  };
  /** Counts a file written, or its failure (a file stopped by an abort is neither). */
  const settle = (path: string, failure: unknown) => {
    if (failure === undefined) stats.files++;
    else if (!options.abortSignal?.aborted) fail(path, failure);
  };
  /** Starts `work` once a write slot is free; `work` reports its own failures. */
  const start = async (work: () => Promise<void>) => {
    while (running.size >= slots) await Promise.race(running);
    const task = work().finally(() => running.delete(task));
    running.add(task);
  };
  // One-chunk files (most of a tree) go to the workers many to a message, each message a round
  // trip between threads. A batch leaves when it is full, or at once while fewer than two are
  // in flight: batches grow only while the workers have work.
  let batch: Array<{ path: string; file: RestoredFile }> = [];
  let batchBytes = 0;
  const sendBatch = async () => {
    // (Only a pool's restores make batches.)
    if (batch.length === 0 || pool === undefined) return;
    const files = batch;
    batch = [];
    batchBytes = 0;
    await start(async () => {
      const failures = await pool
        .restoreFiles(
          files.map(({ file }) => file),
          { transfer: true },
        )
        .catch((error: unknown) => files.map(() => error));
      for (const [i, { path, file }] of files.entries()) {
        settle(path, failures[i]);
        if (failures[i] === undefined) stats.bytesWritten += file.meta.size;
      }
      progress.report();
    });
  };
  const finishDirectories = async () => {
    await sendBatch();
    await Promise.all(running);
    // A file stopped by an abort is not a failed file: the whole restore rejects.
    options.abortSignal?.throwIfAborted();
    for (const { path, fsPath, entry } of directories.reverse()) {
      try {
        applyDirectoryMetadata(fsPath, entry);
      } catch (error) {
        fail(path, error);
      }
    }
  };

  await fs.mkdir(options.target, { recursive: true });
  try {
    for await (const { path, entry } of reader.list(options.rootId, options)) {
      options.abortSignal?.throwIfAborted();
      if (noRoom !== undefined) break;
      const relative = splitPath(path).slice(base.length);
      const fsPath =
        path === base.join('/') && entry.type === 'dir'
          ? options.target
          : join(options.target, ...(relative.length > 0 ? relative : [entry.name]));
      if (entry.type === 'dir') {
        try {
          // Synchronous, as the directories' metadata at the end: a few µs where a trip through
          // the thread pool costs tens, and the walk waits for each directory anyway.
          mkdirSync(fsPath, { recursive: true });
          stats.directories++;
          directories.push({ path, fsPath, entry });
        } catch (error) {
          fail(path, error);
        }
        continue;
      }
      if (entry.type === 'symlink') {
        try {
          if (options.overwrite) await fs.rm(fsPath, { force: true });
          await fs.symlink(entry.target, fsPath);
          const time = mtimeSeconds(entry);
          await fs.lutimes(fsPath, time, time);
          stats.symlinks++;
        } catch (error) {
          fail(path, error);
        }
        continue;
      }
      // Hard links: link to the other path when it is restored already (after the files before
      // it are complete, or removed if they failed). Otherwise write the content here and let that
      // path link to this one when the walk reaches it (backups record whichever path they read
      // first, which need not come first in the catalog).
      const linkTo =
        entry.hardLink === undefined
          ? laterLinks.get(path)
          : hardLinkPath(entry.hardLink, base, options.target);
      laterLinks.delete(path);
      if (linkTo !== undefined) {
        await sendBatch();
        await Promise.all(running);
        if (options.overwrite) await fs.rm(fsPath, { force: true });
        const linked = await fs.link(linkTo, fsPath).then(
          () => true,
          () => false,
        );
        if (linked) {
          stats.files++;
          continue;
        }
        if (entry.hardLink !== undefined) laterLinks.set(entry.hardLink, fsPath);
      }
      if (pool !== undefined && entry.chunks?.length === 1 && entry.chunkLists === undefined) {
        try {
          const blob = await reader.fetchBlob(entry.chunks[0]!, options);
          batch.push({ path, file: { blob, path: fsPath, meta: fileMeta(entry, options) } });
          batchBytes += blob.bytes.length;
        } catch (error) {
          options.abortSignal?.throwIfAborted();
          fail(path, error);
        }
        if (batch.length >= maxBatchFiles || batchBytes >= maxBatchBytes || running.size < 2)
          await sendBatch();
        continue;
      }
      await start(() =>
        restoreFile(reader, pool, entry, fsPath, options, stats).then(
          () => {
            settle(path, undefined);
            progress.report();
          },
          (error: unknown) => settle(path, error),
        ),
      );
    }
    await finishDirectories();
    progress.flush();
    if (noRoom !== undefined) {
      // Every other file would fail the same way: stop, keeping what was restored.
      throw new ChunkEngineError(
        'TARGET_FULL',
        `no room left in ${options.target} (${noRoom.code}) for ${noRoom.path}: stopped after ${stats.files} files, which are kept`,
        { path: noRoom.path, cause: noRoom.error },
      );
    }
  } catch (error) {
    // Aborted, out of room, or the catalog is unreadable: let the files under way finish first.
    await Promise.allSettled(running);
    throw error;
  } finally {
    await pool?.close();
  }
  return { stats, failed };
}

function hardLinkPath(link: string, base: string[], target: string): string | undefined {
  const parts = splitPath(link);
  if (parts.length <= base.length || base.some((name, i) => parts[i] !== name)) return undefined;
  return join(target, ...parts.slice(base.length));
}

/** One-chunk files restored together on a worker: up to this many per message… */
const maxBatchFiles = 64;
/** …and up to this many stored bytes. */
const maxBatchBytes = 4 * 1024 * 1024;

function fileMeta(entry: FileEntry, options: RestoreOptions): RestoredFileMeta {
  return {
    size: entry.size,
    mode: entry.mode,
    mtimeSeconds: mtimeSeconds(entry),
    overwrite: options.overwrite === true,
  };
}

/** Chunks of one file being opened and written at the same time. */
const chunkWritesPerFile = 4;

/**
 * Restores a file chunk by chunk, several chunks at a time: each written at its place by the
 * pool's workers when given (the plaintext never comes back to this thread), else opened and
 * written here. Positions come from the blobs' plaintext lengths, which opening checks.
 */
async function restoreFile(
  reader: CatalogReader,
  pool: SealPool | undefined,
  entry: FileEntry,
  fsPath: string,
  options: RestoreOptions,
  stats: RestoreProgress,
): Promise<void> {
  const meta = fileMeta(entry, options);
  if (meta.overwrite) await fs.rm(fsPath, { force: true });
  const handle = await fs.open(fsPath, restoredFileFlags, 0o600);
  const writeChunk = async (blob: SinkBlob, position: number) => {
    if (pool !== undefined) return pool.writeChunk(blob, fsPath, position, { transfer: true });
    const data = await options.codec.open(blob);
    // All-zero chunks are left as holes: sparse files stay sparse.
    if (isAllZero(data)) return;
    for (let at = 0; at < data.length; ) {
      at += (await handle.write(data, at, data.length - at, position + at)).bytesWritten;
    }
  };
  const writes: Array<Promise<void>> = [];
  /** Bytes of this file counted in `stats` so far: taken back if the file fails. */
  let counted = 0;
  let complete = false;
  try {
    let position = 0;
    for await (const id of reader.chunkIds(entry, options)) {
      const blob = await reader.fetchBlob(id, options);
      if (position + blob.rawLength > entry.size) {
        throw new ChunkEngineError(
          'CATALOG_CORRUPT',
          `its chunks hold more than the ${entry.size} bytes the catalog says`,
        );
      }
      if (writes.length >= chunkWritesPerFile) await writes.shift();
      const write = writeChunk(blob, position).then(() => {
        stats.bytesWritten += blob.rawLength;
        counted += blob.rawLength;
      });
      write.catch(() => {}); // awaited in order above, or all together below
      writes.push(write);
      position += blob.rawLength;
    }
    if (position !== entry.size) {
      throw new ChunkEngineError(
        'CATALOG_CORRUPT',
        `its chunks hold ${position} bytes, the catalog says ${entry.size}`,
      );
    }
    await Promise.all(writes);
    // The full length, also when it ends in a hole.
    await handle.truncate(entry.size);
    // Through the open handle: no path lookups.
    await handle.chmod(meta.mode);
    await handle.utimes(meta.mtimeSeconds, meta.mtimeSeconds);
    complete = true;
  } finally {
    // No write may still be under way when the file is closed, or removed when it failed.
    await Promise.allSettled(writes);
    await handle.close();
    if (!complete) {
      stats.bytesWritten -= counted;
      await fs.rm(fsPath, { force: true });
    }
  }
}

function applyDirectoryMetadata(fsPath: string, entry: CatalogEntry): void {
  chmodSync(fsPath, entry.mode);
  const time = mtimeSeconds(entry);
  utimesSync(fsPath, time, time);
}

function mtimeSeconds(entry: CatalogEntry): number {
  return Number(BigInt(entry.mtimeNs)) / 1e9;
}
