import {
  type BlobCodec,
  type BlobSource,
  CatalogReader,
  ChunkEngineError,
  DedupIndex,
  type DirectoryEntry,
  type FileEntry,
  fromHex,
} from '@offline-seed/chunk-engine';
import { isStagingFormatError, type VolumeVerification } from '@offline-seed/staging-format';
import { directoryArgument, openCodec, withStagingReader } from './location.ts';

/** Options of {@link verifyStaging}. */
export interface VerifyStagingOptions {
  /** Directory of the staging location. */
  staging: string;
  /** Passphrase of an encrypted location (needed to authenticate blobs and read catalogs). */
  passphrase?: string;
  /** Files checked at the same time; default 4. */
  concurrency?: number;
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
  /** Distinct data blobs read and authenticated. */
  blobsChecked: number;
  bytesChecked: number;
  /** Files and directories of any snapshot that a damaged or missing blob breaks. */
  damagedFiles: DamagedFile[];
  seconds: number;
}

/**
 * Checks a staging location end to end: every 2 MiB block checksum and record of every sealed
 * volume, then every snapshot's catalog and every blob it refers to (read, authenticated,
 * decompressed, matched to its id: each distinct blob once). Damage does not stop it: the report
 * names the files each damaged blob breaks, in every snapshot.
 *
 * @throws {@link CliError} `PASSPHRASE_REQUIRED`; `ChunkEngineError` `WRONG_PASSPHRASE`;
 *   `StagingFormatError` when the location cannot be opened at all (missing, foreign or missing
 *   volumes, damaged descriptor); `AbortError`.
 */
export async function verifyStaging(
  options: VerifyStagingOptions,
): Promise<StagingVerificationReport> {
  const staging = directoryArgument(options?.staging, 'options.staging');
  const started = performance.now();
  return withStagingReader(staging, options, async (reader) => {
    const { descriptor } = reader;
    const codec = await openCodec(descriptor, staging, options.passphrase);
    const structure = await reader.verify({
      abortSignal: options.abortSignal,
      onProgress: ({ bytesDone, bytesTotal }) =>
        options.onProgress?.({ phase: 'volumes', bytesDone, bytesTotal }),
    });
    const contents = new ContentCheck(reader, codec, options);
    const snapshots: SnapshotCheck[] = [];
    for (const snapshot of descriptor.snapshots) {
      snapshots.push(await contents.snapshot(snapshot.id, snapshot.time, snapshot.rootId));
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

/** Why a blob or catalog failed, when the failure is damage rather than a fault of the run. */
function damageOf(error: unknown): Problem | undefined {
  if (error instanceof ChunkEngineError || isStagingFormatError(error))
    return { code: error.code, message: error.message };
  return undefined;
}

/** Walks snapshots' catalogs, reading every blob once and recording what is damaged. */
class ContentCheck {
  readonly damagedFiles: DamagedFile[] = [];
  blobsChecked = 0;
  bytesChecked = 0;
  readonly #catalog: CatalogReader;
  readonly #options: VerifyStagingOptions;
  /** Ids read and found intact; a compact set, as a location may hold millions of blobs. */
  readonly #intact = new DedupIndex();
  readonly #damaged = new Map<string, Problem>();
  readonly #running = new Set<Promise<void>>();

  constructor(source: BlobSource, codec: BlobCodec, options: VerifyStagingOptions) {
    this.#catalog = new CatalogReader(source, codec);
    this.#options = options;
  }

  async snapshot(id: string, time: string, rootId: string): Promise<SnapshotCheck> {
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
    await this.#directory(root, '', check, damaged);
    await Promise.all(this.#running);
    return check;
  }

  async #directory(
    directory: DirectoryEntry,
    path: string,
    check: SnapshotCheck,
    damaged: ReportDamage,
  ): Promise<void> {
    try {
      for await (const entry of this.#catalog.entries(directory, this.#options)) {
        const childPath = path === '' ? entry.name : `${path}/${entry.name}`;
        if (entry.type === 'dir') await this.#directory(entry, childPath, check, damaged);
        if (entry.type !== 'file') continue;
        while (this.#running.size >= (this.#options.concurrency ?? 4))
          await Promise.race(this.#running);
        const task = this.#file(entry).then((problem) => {
          if (problem === undefined) check.filesIntact++;
          else damaged(childPath, 'file', problem);
        });
        this.#running.add(task);
        task.finally(() => this.#running.delete(task)).catch(() => {});
      }
    } catch (error) {
      const problem = damageOf(error);
      if (problem === undefined) throw error;
      damaged(path, 'dir', problem);
    }
  }

  /** The first problem among the blobs of `file`, or `undefined` when all are intact. */
  async #file(file: FileEntry): Promise<Problem | undefined> {
    try {
      for await (const blobId of this.#catalog.chunkIds(file, this.#options)) {
        const problem = await this.#blob(blobId);
        if (problem) return { ...problem, blobId };
      }
    } catch (error) {
      // A chunk list (a catalog blob) of a large file is damaged.
      const problem = damageOf(error);
      if (problem === undefined) throw error;
      return problem;
    }
    return undefined;
  }

  async #blob(blobId: string): Promise<Problem | undefined> {
    const id = fromHex(blobId, 32);
    if (id !== undefined && this.#intact.has(id)) return undefined;
    const known = this.#damaged.get(blobId);
    if (known) return known;
    try {
      const plaintext = await this.#catalog.readBlob(blobId, this.#options);
      this.#intact.add(id!);
      this.blobsChecked++;
      this.bytesChecked += plaintext.length;
      this.#options.onProgress?.({
        phase: 'contents',
        bytesDone: this.bytesChecked,
        bytesTotal: undefined,
      });
      return undefined;
    } catch (error) {
      const problem = damageOf(error);
      if (problem === undefined) throw error;
      this.#damaged.set(blobId, problem);
      return problem;
    }
  }
}
