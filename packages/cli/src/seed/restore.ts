import { readdir } from 'node:fs/promises';
import {
  type FailedPath,
  type RestoreProgress,
  restoreSnapshot,
} from '@offline-seed/chunk-engine/node';
import type { StoredSnapshot } from '@offline-seed/staging-format';
import { CliError } from '../errors.ts';
import { directoryArgument, findSnapshot, openCodec, withStagingReader } from './location.ts';

/** Options of {@link restoreStagedSnapshot}. */
export interface RestoreStagedOptions {
  /** Directory of the staging location. */
  staging: string;
  /** Directory to restore into; created when missing. */
  target: string;
  /** Snapshot id, unambiguous id prefix, or `latest` (the default). */
  snapshot?: string;
  /** Subtree of the snapshot to restore (`/`-separated); default all of it. */
  path?: string;
  /** Passphrase of an encrypted location. */
  passphrase?: string;
  /** Restore into a target that already holds files, replacing those of the same name. */
  overwrite?: boolean;
  /** Files written at the same time; default 8 (many small files restore faster in parallel). */
  concurrency?: number;
  /** Called as files are written; `bytesTotal` is the snapshot's size when all of it is restored. */
  onProgress?: (progress: RestoreStagedProgress) => void;
  abortSignal?: AbortSignal;
}

/** Progress of {@link restoreStagedSnapshot}. */
export interface RestoreStagedProgress extends RestoreProgress {
  bytesDone: number;
  bytesTotal: number | undefined;
}

/** What {@link restoreStagedSnapshot} did. */
export interface RestoreStagedResult {
  snapshot: StoredSnapshot;
  stats: RestoreProgress;
  /** Files that could not be restored (damaged or missing blobs, file-system errors). */
  failed: FailedPath[];
  seconds: number;
}

/**
 * Restores a snapshot of a staging location, or a subtree of it, bit-exact: contents (sparse
 * where all-zero), permission bits, mtimes, symlinks, hard links and empty directories. Every
 * blob is authenticated; a damaged one fails only the file it belongs to (listed in `failed`).
 * Reads without the writer's lock, so it may run while nothing else writes.
 *
 * @throws {@link CliError} `SNAPSHOT_NOT_FOUND`, `PASSPHRASE_REQUIRED`, `TARGET_NOT_EMPTY`;
 *   `ChunkEngineError` `WRONG_PASSPHRASE`, `PATH_NOT_FOUND`, `BLOB_*` (root catalog unreadable);
 *   `StagingFormatError` for a missing or damaged location; `AbortError`.
 */
export async function restoreStagedSnapshot(
  options: RestoreStagedOptions,
): Promise<RestoreStagedResult> {
  const staging = directoryArgument(options?.staging, 'options.staging');
  const target = directoryArgument(options.target, 'options.target');
  const started = performance.now();
  return withStagingReader(staging, options, async (reader) => {
    const snapshot = findSnapshot(reader.descriptor.snapshots, options.snapshot, staging);
    const codec = await openCodec(reader.descriptor, staging, options.passphrase);
    if (options.overwrite !== true) await checkEmpty(target);
    const bytesTotal =
      options.path === undefined || options.path === '' || options.path === '/'
        ? totalBytesOf(snapshot)
        : undefined;
    const onProgress = options.onProgress;
    const result = await restoreSnapshot({
      source: reader,
      codec,
      rootId: snapshot.rootId,
      target,
      path: options.path,
      overwrite: options.overwrite,
      concurrency: options.concurrency ?? 8,
      abortSignal: options.abortSignal,
      onProgress:
        onProgress &&
        ((progress) => onProgress({ ...progress, bytesDone: progress.bytesWritten, bytesTotal })),
    });
    return {
      snapshot,
      stats: result.stats,
      failed: result.failed,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  });
}

/** Total file bytes a snapshot recorded, when it says. */
export function totalBytesOf(snapshot: StoredSnapshot): number | undefined {
  const { totalBytes } = snapshot.stats;
  return typeof totalBytes === 'number' ? totalBytes : undefined;
}

async function checkEmpty(target: string): Promise<void> {
  const entries = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0) {
    throw new CliError(
      'TARGET_NOT_EMPTY',
      `${target} already holds ${entries.length} entries: restore into an empty directory, or ask to overwrite`,
      { path: target },
    );
  }
}
