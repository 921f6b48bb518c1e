import { readdir, stat } from 'node:fs/promises';
import { freemem } from 'node:os';
import { basename } from 'node:path';
import {
  BlobCodec,
  type ChunkerOptions,
  type Compression,
  createSnapshotRecord,
  FastCdc,
  type ScryptParams,
} from '@offline-seed/chunk-engine';
import {
  type BackupProgress,
  backupDirectory,
  type SkippedPath,
} from '@offline-seed/chunk-engine/node';
import {
  DESCRIPTOR_FILE,
  isStagingFormatError,
  type StagingDescriptor,
  type StagingWriter,
  type StoredSnapshot,
  type VolumeEntry,
  type VolumeRecovery,
} from '@offline-seed/staging-format';
import {
  breakStaleLock,
  createStagingDirectory,
  inspectLock,
  LOCK_FILE,
  type LockOwner,
  openStagingDirectory,
} from '@offline-seed/staging-format/node';
import { CliError } from '../errors.ts';
import { CheckpointSink } from './checkpoint-sink.ts';
import {
  type BlobParameters,
  blobParametersOf,
  defaultBlobParameters,
  describeBlobParameters,
  directoryArgument,
  newEncryption,
  openCodec,
  readDescriptorOf,
} from './location.ts';
import { sizeOfTree } from './source-size.ts';

/** Options of {@link stageDirectory}. */
export interface StageOptions {
  /** Directory of the staging location; the first run creates it (missing or empty directory). */
  staging: string;
  /** Passphrase of the location: required to create an encrypted one and to write to it. */
  passphrase?: string;
  /** Create the location without encryption (blob ids are then plain SHA-256). Default false. */
  unencrypted?: boolean;
  /** Name of the import job the location is for; default the staging directory's name. */
  jobName?: string;
  /** Largest volume file when creating the location (bytes, VHD footer included); default 1 TiB. */
  maxVolumeSize?: number;
  /** Chunk sizes when creating the location; default 512 KiB / 1 MiB / 8 MiB. Fixed afterwards. */
  chunker?: ChunkerOptions;
  /** Compression when creating the location; default zstd. Fixed afterwards. */
  compression?: Compression;
  /** Its level when creating the location; default 3 for zstd. Fixed afterwards. */
  compressionLevel?: number;
  /**
   * scrypt cost when creating an encrypted location; default N = 2^15, r = 8, p = 3: OWASP's
   * equivalent of N = 2^17, p = 1 at a quarter of the memory (32 MiB), so peak memory stays low.
   */
  scrypt?: Partial<ScryptParams>;
  /** Seal the open volume once the snapshot is committed, so it is ready for drives. Default true. */
  seal?: boolean;
  /** Stored bytes between durability checkpoints (what a kill may cost); default 256 MiB. */
  checkpointBytes?: number;
  /** Seal threads (0: this thread); default available cores. */
  workers?: number;
  /** Files read at the same time; default 8. */
  concurrency?: number;
  /**
   * Break the location's lock when the process that held it has died (a killed earlier run).
   * Default true; a lock held by a live process or another host is never broken.
   */
  breakStaleLock?: boolean;
  /** Called as files are read; `bytesTotal` is known once a background size scan finishes. */
  onProgress?: (progress: StageProgress) => void;
  /** Stops the run: what was stored is flushed (the next run reuses it), no snapshot is committed. */
  abortSignal?: AbortSignal;
}

/** Progress of {@link stageDirectory}. */
export interface StageProgress extends BackupProgress {
  /** Bytes of files done: read, or found unchanged since the parent snapshot. */
  bytesDone: number;
  /** Bytes of all regular files in the source, once known. */
  bytesTotal: number | undefined;
}

/** The stats a staged snapshot records (in the descriptor and the volume's catalog). */
export interface StagedSnapshotStats extends BackupProgress {
  /** Absolute path of the staged directory. */
  source: string;
  /** Bytes of all files in the snapshot (read or unchanged). */
  totalBytes: number;
  /** Wall time of the run, in seconds. */
  seconds: number;
}

/** What {@link stageDirectory} did. */
export interface StageResult {
  /** The committed snapshot. */
  snapshot: StoredSnapshot;
  stats: StagedSnapshotStats;
  /** Paths left out (vanished, unreadable, unsupported); the snapshot is complete otherwise. */
  skipped: SkippedPath[];
  /** True when this run created the location. */
  created: boolean;
  stagingId: string;
  /** Every volume of the location after the run. */
  volumes: VolumeEntry[];
  /** What opening found and repaired after an interrupted earlier run. */
  recovery: VolumeRecovery | undefined;
  /** Owner of a stale lock that was broken (an earlier run that was killed). */
  brokenLock: LockOwner | undefined;
}

const defaultCheckpointBytes = 256 * 1024 * 1024;
const defaultScrypt: ScryptParams = { N: 2 ** 15, r: 8, p: 3 };
/** Sealed bytes waiting for the volume writer before the engine is held back. */
const writeBehindBytes = 32 * 1024 * 1024;

/**
 * Backs up the directory `source` into the staging location `options.staging`: the first run
 * creates the location and stores everything; later runs store an incremental snapshot whose
 * parent is the latest one of the same source (unchanged files are not read again, known chunks
 * not stored again). The run is crash-safe: what was stored before a kill or an abort is found
 * by the next run and not stored twice; only a finished run commits a snapshot.
 *
 * @throws {@link CliError} `SOURCE_NOT_FOUND`, `PASSPHRASE_REQUIRED`, `STAGING_NOT_EMPTY`,
 *   `STAGING_BAD_PARAMETERS`; `ChunkEngineError` `WRONG_PASSPHRASE`, `WEAK_PASSPHRASE` (a new
 *   location's passphrase shorter than 16 characters); `StagingFormatError` for a damaged or
 *   foreign location (`STAGING_BAD_DESCRIPTOR`, `VOLUME_FOREIGN`, `STAGING_LOCKED`…); `AbortError`.
 */
export async function stageDirectory(source: string, options: StageOptions): Promise<StageResult> {
  const sourcePath = directoryArgument(source, 'source');
  const staging = directoryArgument(options?.staging, 'options.staging');
  const started = performance.now();
  await checkSource(sourcePath);
  options.abortSignal?.throwIfAborted();

  const existing = await readExistingDescriptor(staging);
  const opened = existing
    ? await openExisting(staging, existing, options)
    : await createLocation(staging, options);
  const { writer, codec, parameters } = opened;
  const sizeScan = new AbortController();
  let succeeded = false;
  try {
    const descriptor = writer.descriptor;
    const parent = descriptor.snapshots.findLast(
      (s) => (s.stats as { source?: unknown }).source === sourcePath,
    );
    const progress = progressReporter(sourcePath, options, sizeScan.signal);
    // The walk reads the parent's catalog a page at a time; volumes are written past the file
    // cache, so after a backup each page would cost a seek. Read every page in file order first,
    // as far as a quarter of the free memory holds them.
    if (parent !== undefined)
      await writer.readAhead('tree', {
        abortSignal: options.abortSignal,
        maxBytes: Math.floor(freemem() / 4),
      });
    const result = await backupDirectory(sourcePath, {
      sink: new CheckpointSink(writer, {
        checkpointBytes: options.checkpointBytes ?? defaultCheckpointBytes,
        maxQueuedBytes: writeBehindBytes,
      }),
      codec,
      chunker: parameters.chunker,
      parent: parent && { rootId: parent.rootId, source: writer },
      workers: options.workers,
      concurrency: options.concurrency,
      onProgress: progress,
      abortSignal: options.abortSignal,
    });
    const stats: StagedSnapshotStats = {
      ...result.stats,
      source: sourcePath,
      totalBytes: result.stats.bytesRead + result.stats.bytesUnchanged,
      seconds: round((performance.now() - started) / 1000),
    };
    const record = createSnapshotRecord(
      { rootId: result.rootId, stats: { ...stats } },
      { parentId: parent?.id },
    );
    const snapshot = await writer.commitSnapshot(record, options);
    if (options.seal ?? true) await writer.sealVolume();
    succeeded = true;
    return {
      snapshot,
      stats,
      skipped: result.skipped,
      created: existing === undefined,
      stagingId: descriptor.stagingId,
      volumes: writer.descriptor.volumes,
      recovery: writer.recovery,
      brokenLock: opened.brokenLock,
    };
  } finally {
    sizeScan.abort();
    // Flushes what was put (also after an abort or an error), then releases the lock. After a
    // failure, the failure is what the caller needs to see, not a second one from closing.
    const closing = writer.close();
    await (succeeded ? closing : closing.catch(() => {}));
  }
}

interface OpenedLocation {
  writer: StagingWriter;
  codec: BlobCodec;
  parameters: BlobParameters;
  brokenLock: LockOwner | undefined;
}

async function checkSource(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory() !== true) {
    throw new CliError(
      'SOURCE_NOT_FOUND',
      `${path} ${info === undefined ? 'does not exist' : 'is not a directory'}`,
      { path },
    );
  }
}

/** The descriptor of the location in `dir`, or `undefined` when there is none yet. */
async function readExistingDescriptor(dir: string): Promise<StagingDescriptor | undefined> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  // A descriptor that is damaged or not ours fails here, and is never replaced.
  if (entries.includes(DESCRIPTOR_FILE)) return readDescriptorOf(dir);
  // No descriptor: only an empty directory (or one a crash left a lock in) becomes a location.
  const foreign = entries.filter((name) => !name.startsWith(LOCK_FILE));
  if (foreign.length > 0) {
    throw new CliError(
      'STAGING_NOT_EMPTY',
      `${dir} is not a staging location and not empty (${foreign.length} entries, e.g. "${foreign[0]}"): choose an empty or new directory`,
      { path: dir },
    );
  }
  return undefined;
}

async function openExisting(
  dir: string,
  descriptor: StagingDescriptor,
  options: StageOptions,
): Promise<OpenedLocation> {
  // Unlock before taking the lock: a wrong passphrase changes nothing, not even recovery.
  const codec = await openCodec(descriptor, dir, options.passphrase);
  const parameters = blobParametersOf(descriptor, dir);
  const { value: writer, brokenLock } = await lockedRetryingStale(dir, options, () =>
    openStagingDirectory(dir, options),
  );
  return { writer, codec, parameters, brokenLock };
}

async function createLocation(dir: string, options: StageOptions): Promise<OpenedLocation> {
  const defaults = defaultBlobParameters();
  const compression = options.compression ?? defaults.compression;
  const parameters: BlobParameters = {
    chunker: options.chunker ? new FastCdc(options.chunker).params : defaults.chunker,
    compression,
    // Another compression than the default gets the engine's level for it unless one is given.
    compressionLevel:
      options.compressionLevel ??
      (compression === defaults.compression ? defaults.compressionLevel : undefined),
  };
  let encryption: Awaited<ReturnType<typeof newEncryption>> | undefined;
  if (options.unencrypted !== true) {
    if (options.passphrase === undefined) {
      throw new CliError(
        'PASSPHRASE_REQUIRED',
        `creating the staging location ${dir} needs a passphrase (or ask for no encryption explicitly)`,
        { path: dir },
      );
    }
    encryption = await newEncryption(options.passphrase, { ...defaultScrypt, ...options.scrypt });
  }
  const codec = new BlobCodec({
    keys: encryption?.keys,
    compression: parameters.compression,
    compressionLevel: parameters.compressionLevel,
  });
  const { value: writer, brokenLock } = await lockedRetryingStale(dir, options, () =>
    createStagingDirectory(dir, {
      job: { jobName: options.jobName ?? basename(dir) },
      crypto: encryption?.crypto ?? null,
      chunker: describeBlobParameters({ ...parameters, compression: codec.compression }),
      maxVolumeSize: options.maxVolumeSize,
    }),
  );
  return { writer, codec, parameters, brokenLock };
}

/** Runs `open`; when the lock is held by a dead process (a killed run), breaks it and retries once. */
async function lockedRetryingStale<T>(
  dir: string,
  options: StageOptions,
  open: () => Promise<T>,
): Promise<{ value: T; brokenLock: LockOwner | undefined }> {
  try {
    return { value: await open(), brokenLock: undefined };
  } catch (error) {
    if (options.breakStaleLock === false || !isStagingFormatError(error, 'STAGING_LOCKED'))
      throw error;
    if ((await inspectLock(dir))?.stale !== true) throw error;
    const owner = await breakStaleLock(dir);
    return { value: await open(), brokenLock: owner };
  }
}

/** Turns the engine's counters into byte progress, with the source's total once scanned. */
function progressReporter(
  source: string,
  options: StageOptions,
  stopScan: AbortSignal,
): ((progress: BackupProgress) => void) | undefined {
  const onProgress = options.onProgress;
  if (onProgress === undefined) return undefined;
  let bytesTotal: number | undefined;
  const signals = options.abortSignal ? [stopScan, options.abortSignal] : [stopScan];
  sizeOfTree(source, AbortSignal.any(signals)).then(
    (total) => {
      bytesTotal = total;
    },
    () => {},
  );
  return (progress) =>
    onProgress({
      ...progress,
      bytesDone: progress.bytesRead + progress.bytesUnchanged,
      // Files may grow while the run reads them: never report more done than total.
      bytesTotal:
        bytesTotal === undefined
          ? undefined
          : Math.max(bytesTotal, progress.bytesRead + progress.bytesUnchanged),
    });
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
