import {
  type BlobCodec,
  type BlobSource,
  CatalogReader,
  ChunkEngineError,
  DedupIndex,
  type DirectoryEntry,
  type FileEntry,
  fromHex,
  type SinkBlob,
  toHex,
} from '@offline-seed/chunk-engine';
import { SealPool } from '@offline-seed/chunk-engine/node';
import {
  isStagingFormatError,
  type StagingVerification,
  type VolumeVerification,
} from '@offline-seed/staging-format';
import { directoryArgument, openCodec, withStagingReader } from './location.ts';

/** Options of {@link verifyStaging}. */
export interface VerifyStagingOptions {
  /** Directory of the staging location. */
  staging: string;
  /** Passphrase of an encrypted location (needed to authenticate blobs and read catalogs). */
  passphrase?: string;
  /** Files checked at the same time; default 64. */
  concurrency?: number;
  /**
   * Threads that open (decrypt, decompress, verify) data blobs; 0 opens them on this thread.
   * Default: available cores.
   */
  workers?: number;
  onProgress?: (progress: VerifyStagingProgress) => void;
  abortSignal?: AbortSignal;
}

/**
 * Progress of {@link verifyStaging}: first the volumes' blocks and records (`bytesTotal` known),
 * then the snapshots' contents (plaintext bytes of the distinct blobs authenticated so far).
 */
export interface VerifyStagingProgress {
  phase: 'volumes' | 'contents';
  bytesDone: number;
  bytesTotal: number | undefined;
}

/** A file or directory of a snapshot that cannot be restored intact, and why. */
export interface DamagedFile {
  snapshotId: string;
  /** Path in the snapshot (`/`-separated). */
  path: string;
  type: 'file' | 'dir';
  /** Error code: `BLOB_AUTH_FAILED`, `BLOB_NOT_FOUND`, `VOLUME_BAD_RECORD`, `CATALOG_CORRUPT`… */
  code: string;
  message: string;
  /** The first damaged blob it needs. */
  blobId?: string;
}

/** A snapshot's part of the report. */
export interface SnapshotCheck {
  id: string;
  time: string;
  /** Files whose every blob was read, authenticated and matched its id. */
  filesIntact: number;
  damaged: number;
}

/** What {@link verifyStaging} found. */
export interface StagingVerificationReport {
  /** True when every block, record, blob and catalog checked out. */
  ok: boolean;
  stagingId: string;
  /** Block checksums and record checks of every sealed volume. */
  volumes: VolumeVerification[];
  /** Transfer-hash sidecars (what drive preparation checks copies against) that are damaged. */
  damagedTransferHashes: Array<{ volume: number; code: string; message: string }>;
  /** The volume still open (an interrupted run): complete records, and a torn tail to recover. */
  unsealed: { volume: number; records: number; tailBytes: number } | undefined;
  snapshots: SnapshotCheck[];
  /** Distinct data blobs read and found intact (in the volumes, or referred to by a snapshot). */
  blobsChecked: number;
  bytesChecked: number;
  /** Files and directories of any snapshot that a damaged or missing blob breaks. */
  damagedFiles: DamagedFile[];
  seconds: number;
}

/**
 * Checks a staging location end to end: every 2 MiB block checksum and record of every sealed
 * volume, every data blob (authenticated, decompressed, matched to its id: each distinct blob
 * once, on worker threads, as that same pass reads it), then every snapshot's catalog and every
 * blob it refers to that the pass did not find intact (those of the open volume, or missing).
 * Damage does not stop it: the report names the files each damaged blob breaks, in every
 * snapshot.
 *
 * @throws {@link CliError} `PASSPHRASE_REQUIRED`; `ChunkEngineError` `WRONG_PASSPHRASE`;
 *   `StagingFormatError` when the location cannot be opened at all (missing, foreign or missing
 *   volumes, damaged descriptor); `AbortError`.
 */
export async function verifyStaging(
  options: VerifyStagingOptions,
): Promise<StagingVerificationReport> {
  const staging = directoryArgument(options?.staging, 'options.staging');
  const concurrency = options.concurrency ?? defaultConcurrency;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `"options.concurrency" expected a positive integer, got ${String(concurrency)}`,
    );
  }
  const started = performance.now();
  return withStagingReader(staging, options, async (reader) => {
    const { descriptor } = reader;
    const codec = await openCodec(descriptor, staging, options.passphrase);
    const pool =
      options.workers === 0 ? undefined : new SealPool(codec, { workers: options.workers });
    const contents = new ContentCheck(reader, codec, pool, options);
    const snapshots: SnapshotCheck[] = [];
    let structure: StagingVerification;
    try {
      // One read of the volumes: the data blobs it finds intact are authenticated on the way.
      structure = await reader.verify({
        abortSignal: options.abortSignal,
        onProgress: ({ bytesDone, bytesTotal }) =>
          options.onProgress?.({ phase: 'volumes', bytesDone, bytesTotal }),
        onBlob: (blob) => contents.checkRead(blob),
      });
      for (const snapshot of descriptor.snapshots) {
        snapshots.push(await contents.snapshot(snapshot.id, snapshot.time, snapshot.rootId));
      }
      await contents.finish();
    } finally {
      await pool?.close();
    }
    return {
      ok: structure.ok && contents.damagedFiles.length === 0,
      stagingId: descriptor.stagingId,
      volumes: structure.volumes,
      damagedTransferHashes: structure.damagedTransferHashes,
      unsealed: structure.unsealed,
      snapshots,
      blobsChecked: contents.blobsChecked,
      bytesChecked: contents.bytesChecked,
      damagedFiles: contents.damagedFiles,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  });
}

/** What is wrong with a blob, a file or a directory. */
interface Problem {
  code: string;
  message: string;
  blobId?: string;
}

type ReportDamage = (path: string, type: DamagedFile['type'], problem: Problem) => void;

/**
 * Why a blob or catalog failed, when the failure is damage rather than a fault of the run (a
 * failed worker is the run's fault).
 */
function damageOf(error: unknown): Problem | undefined {
  if (error instanceof ChunkEngineError && error.code === 'WORKER_FAILED') return undefined;
  if (error instanceof ChunkEngineError || isStagingFormatError(error))
    return { code: error.code, message: error.message };
  return undefined;
}

/** Files checked at the same time, by default. */
const defaultConcurrency = 64;
/** Blob checks of one file awaited in order; more start while the first are pending. */
const checksPerFile = 8;
/** Blobs checked on a worker together: up to this many per message… */
const maxBatchBlobs = 64;
/** …and up to this many stored bytes. */
const maxBatchBytes = 4 * 1024 * 1024;
/** Blobs fetched (or being fetched) and not yet checked before fetching waits… */
const maxBlobsInFlight = 256;
/** …or stored bytes. */
const maxBytesInFlight = 64 * 1024 * 1024;

/** A fetched blob waiting for its batch, and how to report its outcome. */
interface BatchedBlob {
  blob: SinkBlob;
  settle(failure: unknown): void;
}

/** Walks snapshots' catalogs, checking every blob once and recording what is damaged. */
class ContentCheck {
  readonly damagedFiles: DamagedFile[] = [];
  blobsChecked = 0;
  bytesChecked = 0;
  readonly #catalog: CatalogReader;
  readonly #codec: BlobCodec;
  readonly #pool: SealPool | undefined;
  readonly #options: VerifyStagingOptions;
  /** Ids read and found intact; a compact set, as a location may hold millions of blobs. */
  readonly #intact = new DedupIndex();
  readonly #damaged = new Map<string, Problem>();
  /** Checks under way, by blob id: files sharing a blob wait for the same check. */
  readonly #checking = new Map<string, Promise<Problem | undefined>>();
  /** File tasks under way; they never reject: a fault of the run lands in `#fatal`. */
  readonly #running = new Set<Promise<void>>();
  #fatal: unknown;
  /** Contents progress is reported once the volumes' pass (and its progress) is over. */
  #walking = false;
  // One-blob files (most of a tree) go to the workers many to a message. A batch leaves when it
  // is full, or at once while fewer than two are in flight: batches grow only while the workers
  // have work, and each batch that comes back sends the one that filled meanwhile (so a batch
  // never waits for blobs that will not come).
  #batch: BatchedBlob[] = [];
  #batchBytes = 0;
  #batchesInFlight = 0;
  /** Blobs being fetched or checked, and their stored bytes once fetched. */
  #blobsInFlight = 0;
  #bytesInFlight = 0;
  readonly #waitingForRoom: Array<() => void> = [];

  constructor(
    source: BlobSource,
    codec: BlobCodec,
    pool: SealPool | undefined,
    options: VerifyStagingOptions,
  ) {
    this.#catalog = new CatalogReader(source, codec);
    this.#codec = codec;
    this.#pool = pool;
    this.#options = options;
  }

  async snapshot(id: string, time: string, rootId: string): Promise<SnapshotCheck> {
    this.#walking = true;
    const check: SnapshotCheck = { id, time, filesIntact: 0, damaged: 0 };
    const damaged: ReportDamage = (path, type, problem) => {
      this.damagedFiles.push({ snapshotId: id, path, type, ...problem });
      check.damaged++;
    };
    let root: DirectoryEntry;
    try {
      root = await this.#catalog.root(rootId, this.#options);
    } catch (error) {
      const problem = damageOf(error);
      if (problem === undefined) throw error;
      damaged('', 'dir', { ...problem, blobId: rootId });
      return check;
    }
    try {
      await this.#directory(root, '', check, damaged);
    } finally {
      // Files under way finish before the error (or the end) closes the workers.
      await Promise.allSettled(this.#running);
    }
    if (this.#fatal !== undefined) throw this.#fatal;
    this.#options.abortSignal?.throwIfAborted();
    return check;
  }

  async #directory(
    directory: DirectoryEntry,
    path: string,
    check: SnapshotCheck,
    damaged: ReportDamage,
  ): Promise<void> {
    const concurrency = this.#options.concurrency ?? defaultConcurrency;
    try {
      for await (const entry of this.#catalog.entries(directory, this.#options)) {
        const childPath = path === '' ? entry.name : `${path}/${entry.name}`;
        if (entry.type === 'dir') await this.#directory(entry, childPath, check, damaged);
        if (entry.type !== 'file') continue;
        while (this.#running.size >= concurrency) await Promise.race(this.#running);
        if (this.#fatal !== undefined) throw this.#fatal;
        const task = this.#file(entry).then(
          (problem) => {
            if (problem === undefined) check.filesIntact++;
            else damaged(childPath, 'file', problem);
          },
          (error: unknown) => {
            this.#fatal ??= error;
          },
        );
        this.#running.add(task);
        task.finally(() => this.#running.delete(task));
      }
    } catch (error) {
      const problem = damageOf(error);
      if (problem === undefined) throw error;
      damaged(path, 'dir', problem);
    }
  }

  /**
   * The first problem among the blobs of `file`, in order, or `undefined` when all are intact.
   * Its later blobs are checked all the same: the report counts every blob.
   */
  async #file(file: FileEntry): Promise<Problem | undefined> {
    const checks: Array<Promise<Problem | undefined>> = [];
    let first: Problem | undefined;
    try {
      for await (const blobId of this.#catalog.chunkIds(file, this.#options)) {
        const check = this.#blob(blobId);
        if (check === undefined) continue;
        checks.push(check);
        if (checks.length >= checksPerFile) {
          const problem = await checks.shift()!;
          first ??= problem;
        }
      }
      for (const check of checks.splice(0)) {
        const problem = await check;
        first ??= problem;
      }
    } catch (error) {
      // A chunk list (a catalog blob) of a large file is damaged.
      const problem = damageOf(error);
      if (problem === undefined) throw error;
      first ??= problem;
    } finally {
      // Checks left behind by an error settle on their own (and are shared by id).
      for (const check of checks) check.catch(() => {});
    }
    return first;
  }

  /**
   * Starts checking a data blob the volumes' pass read (the walk then finds it checked, without
   * reading it again); resolves once it is under way, so that the pass waits while too many are.
   */
  async checkRead(blob: SinkBlob): Promise<void> {
    if (this.#fatal !== undefined) throw this.#fatal;
    if (blob.type !== 'data') return;
    await this.#room();
    this.#blob(toHex(blob.id), blob);
  }

  /** Waits for every check under way (those of blobs no snapshot refers to too). */
  async finish(): Promise<void> {
    await Promise.allSettled(this.#checking.values());
    if (this.#fatal !== undefined) throw this.#fatal;
  }

  /**
   * The check of one blob (of `read`, or fetched): undefined when it is known intact, else its
   * problem or undefined.
   */
  #blob(blobId: string, read?: SinkBlob): Promise<Problem | undefined> | undefined {
    const id = fromHex(blobId, 32);
    if (id !== undefined && this.#intact.has(id)) return undefined;
    const known = this.#damaged.get(blobId);
    if (known) return Promise.resolve(known);
    let check = this.#checking.get(blobId);
    if (check === undefined) {
      check = this.#check(blobId, read).finally(() => this.#checking.delete(blobId));
      // A fault of the run stops it even when no file waits for this blob yet.
      check.catch((error: unknown) => {
        this.#fatal ??= error;
      });
      this.#checking.set(blobId, check);
    }
    return check;
  }

  async #room(): Promise<void> {
    while (this.#blobsInFlight >= maxBlobsInFlight || this.#bytesInFlight >= maxBytesInFlight)
      await new Promise<void>((resolve) => this.#waitingForRoom.push(resolve));
  }

  async #check(blobId: string, read: SinkBlob | undefined): Promise<Problem | undefined> {
    await this.#room();
    this.#blobsInFlight++;
    let bytes = 0;
    try {
      const blob = read ?? (await this.#catalog.fetchBlob(blobId, this.#options));
      bytes = blob.bytes.length;
      this.#bytesInFlight += bytes;
      const rawLength = blob.rawLength;
      await this.#open(blob);
      this.#intact.add(blob.id);
      this.blobsChecked++;
      this.bytesChecked += rawLength;
      if (this.#walking) {
        this.#options.onProgress?.({
          phase: 'contents',
          bytesDone: this.bytesChecked,
          bytesTotal: undefined,
        });
      }
      return undefined;
    } catch (error) {
      const damage = damageOf(error);
      if (damage === undefined) throw error;
      const problem = { ...damage, blobId };
      this.#damaged.set(blobId, problem);
      return problem;
    } finally {
      this.#blobsInFlight--;
      this.#bytesInFlight -= bytes;
      for (const wake of this.#waitingForRoom.splice(0)) wake();
    }
  }

  /** Opens `blob` (on a worker, in a batch, when there is a pool); rejects when it is damaged. */
  async #open(blob: SinkBlob): Promise<void> {
    if (this.#pool === undefined) {
      await this.#codec.open(blob);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.#batch.push({
        blob,
        settle: (failure) => (failure === undefined ? resolve() : reject(failure)),
      });
      this.#batchBytes += blob.bytes.length;
      if (
        this.#batch.length >= maxBatchBlobs ||
        this.#batchBytes >= maxBatchBytes ||
        this.#batchesInFlight < 2
      )
        this.#sendBatch();
    });
  }

  #sendBatch(): void {
    const batch = this.#batch;
    if (batch.length === 0 || this.#pool === undefined) return;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#batchesInFlight++;
    // The blobs were fetched for this check alone: the worker may take their bytes.
    this.#pool
      .checkBlobs(
        batch.map(({ blob }) => blob),
        { transfer: true },
      )
      .catch((error: unknown) => batch.map(() => error))
      .then((failures) => {
        this.#batchesInFlight--;
        for (const [i, { settle }] of batch.entries()) settle(failures[i]);
        this.#sendBatch();
      });
  }
}
