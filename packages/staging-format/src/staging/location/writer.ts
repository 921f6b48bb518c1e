import { StagingFormatError } from '../../errors.ts';
import { formatUuid, parseUuid, toHex } from '../format/bytes.ts';
import {
  BLOB_ID_SIZE,
  DEFAULT_MAX_VOLUME_SIZE,
  MAX_BLOB_SIZE,
  MAX_CATALOG_SIZE,
  MAX_VOLUME_SIZE,
  MIN_VOLUME_SIZE,
  RECORD_HEADER_SIZE,
  STAGING_FORMAT_VERSION,
} from '../format/constants.ts';
import {
  assertNoSecrets,
  type CryptoParameters,
  DESCRIPTOR_FORMAT,
  type JobBinding,
  type JsonValue,
  type SnapshotRecord,
  type StagingDescriptor,
  type StoredSnapshot,
  transferHashesFileName,
  type VolumeEntry,
  volumeFileName,
} from '../format/descriptor.ts';
import { encodeCatalog, type IndexEntry } from '../format/sections.ts';
import { sha256 } from '../hashing/hasher.ts';
import { blobNotFound } from '../reader/record.ts';
import { type ReadAheadOptions, readAheadAll, VolumeReader } from '../reader/volume-reader.ts';
import type { BlobSink, BlobSource, SinkBlob } from '../sink.ts';
import type { LocationLock, LocationStore } from '../store/store.ts';
import { BlobIndex } from '../writer/blob-index.ts';
import type { TransferRange } from '../writer/stream-hasher.ts';
import { VolumeWriter } from '../writer/volume-writer.ts';
import { readDescriptor, writeDescriptor } from './descriptor-io.ts';
import { recoverOpenVolume, type VolumeRecovery } from './recovery.ts';
import { encodeTransferHashes } from './transfer-hashes.ts';

/** Options of {@link StagingWriter.create}. */
export interface CreateStagingOptions {
  job: JobBinding;
  /** Key derivation parameters (never the key); `null` when the backup is not encrypted. */
  crypto: CryptoParameters | null;
  /** Chunker parameters, as the chunk engine describes them. */
  chunker: { [parameter: string]: JsonValue };
  /** Largest volume file in bytes, VHD footer included: default 1 TiB, at most 8 TiB (a page blob). */
  maxVolumeSize?: number;
  /** UUID of the new location; random when omitted. */
  stagingId?: string;
}

const EMPTY_CATALOG = encodeCatalog([]).length;
/** Catalog blobs held back until they fill a run of this many bytes (or a flush comes). */
const TREE_RUN_BYTES = 4 * 1024 * 1024;

interface CallOptions {
  abortSignal?: AbortSignal;
}

/**
 * The writer of a staging location, and the blob sink the chunk engine writes into. It holds the
 * location's lock from `create`/`open` to `close`. Calls may overlap: they run one at a time, in
 * call order.
 *
 * Durability: `put` appends (small blobs are batched), `flush` makes everything put durable,
 * `commitSnapshot` flushes and records the snapshot in `staging.json`. After a crash, `open`
 * recovers every complete record; what a flush acknowledged is never lost.
 *
 * Catalog blobs (`tree`) are held back and appended together, 4 MiB at a time and at every
 * flush: a volume's catalog then lies in a few runs that `readAhead` reads whole, instead of
 * among gigabytes of data.
 */
export class StagingWriter implements BlobSink, BlobSource {
  readonly store: LocationStore;
  /** What `open` found and repaired in the open volume, if anything. */
  readonly recovery: VolumeRecovery | undefined;
  #descriptor: StagingDescriptor;
  readonly #lock: LocationLock;
  readonly #index = new BlobIndex();
  readonly #sealed = new Map<number, VolumeReader>();
  #volume: VolumeWriter | undefined;
  /** Catalog blobs put but not yet appended (copies), by hex id, in put order. */
  readonly #heldTrees = new Map<string, SinkBlob>();
  #heldTreeBytes = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    store: LocationStore,
    lock: LocationLock,
    descriptor: StagingDescriptor,
    recovery?: VolumeRecovery,
  ) {
    this.store = store;
    this.#lock = lock;
    this.#descriptor = descriptor;
    this.recovery = recovery;
  }

  /**
   * Creates a new, empty location in `store` and opens it for writing.
   * @throws {TypeError | RangeError} for bad options (also when `crypto` holds a field named like a secret).
   * @throws {StagingFormatError} `STAGING_EXISTS` when `store` already holds a location, `STAGING_LOCKED`.
   */
  static async create(store: LocationStore, options: CreateStagingOptions): Promise<StagingWriter> {
    const descriptor = newDescriptor(options);
    const lock = await store.lock();
    try {
      if (
        (await store.readFile('staging.json')) !== undefined ||
        (await store.listVolumeFiles()).length > 0
      ) {
        throw new StagingFormatError(
          'STAGING_EXISTS',
          `${store.path} already holds a staging location`,
          {
            path: store.path,
          },
        );
      }
      await writeDescriptor(store, descriptor);
      return new StagingWriter(store, lock, descriptor);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /**
   * Opens an existing location for writing: takes the lock, checks the descriptor and every volume
   * (missing, extra or foreign volumes are refused), loads the index of all sealed volumes and
   * recovers the open one after a crash (see {@link recovery}).
   */
  static async open(store: LocationStore, options: CallOptions = {}): Promise<StagingWriter> {
    const lock = await store.lock();
    try {
      options.abortSignal?.throwIfAborted();
      const descriptor = await readDescriptor(store);
      await checkVolumeFiles(store, descriptor);
      const last = descriptor.volumes.at(-1);
      const recovered =
        last?.state === 'open'
          ? await recoverOpenVolume(store, descriptor.stagingId, last, Date.parse(last.createdAt))
          : undefined;
      const writer = new StagingWriter(store, lock, descriptor, recovered?.report);
      for (const entry of descriptor.volumes) {
        if (entry.state === 'sealed') await writer.#loadSealed(entry, options);
      }
      if (recovered?.outcome === 'sealed') {
        await writer.#recordSealed(
          last!,
          recovered.reader,
          recovered.size,
          recovered.transferRanges,
        );
        writer.#indexVolume(last!.number, recovered.reader);
      } else if (recovered !== undefined) {
        writer.#volume = recovered.writer;
        for (const entry of recovered.writer.entries()) {
          writer.#index.add(entry.id, { volume: last!.number, ...entry });
        }
      }
      return writer;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** A copy of the current descriptor. */
  get descriptor(): StagingDescriptor {
    return structuredClone(this.#descriptor);
  }

  /** Number of blobs stored (all volumes). */
  get blobCount(): number {
    return this.#index.size + this.#heldTrees.size;
  }

  /** Memory the in-memory blob index holds per blob, in bytes. */
  get indexBytesPerEntry(): number {
    return this.#index.bytesPerEntry;
  }

  /** True when a blob with this id is stored in any volume (put, even if not yet flushed). */
  has(id: Uint8Array): boolean {
    return this.#index.has(id) || this.#held(id) !== undefined;
  }

  /**
   * Appends `blob` to the open volume (rolling over to a new volume when the next one would pass
   * `maxVolumeSize`). An id already stored is a no-op.
   * @throws {TypeError | RangeError} for a malformed blob, or one too large for any volume.
   */
  async put(blob: SinkBlob, options: CallOptions = {}): Promise<void> {
    checkBlob(blob);
    return this.#exclusive(options, async () => {
      if (this.has(blob.id)) return;
      // A failed volume refuses every put, held or not.
      if (blob.type !== 'tree' || this.#volume?.failed === true) return this.#append(blob);
      // Copied: the caller may reuse its buffers once put resolves.
      this.#heldTrees.set(toHex(blob.id), {
        ...blob,
        id: blob.id.slice(),
        bytes: blob.bytes.slice(),
      });
      this.#heldTreeBytes += blob.bytes.length;
      if (this.#heldTreeBytes >= TREE_RUN_BYTES) await this.#appendHeldTrees();
    });
  }

  /** Makes everything put so far durable. */
  flush(options: CallOptions = {}): Promise<void> {
    return this.#exclusive(options, async () => {
      await this.#appendHeldTrees();
      await this.#volume?.flush();
    });
  }

  /**
   * Reads ahead the records of one type (`tree`: the catalogs) in every sealed volume, in file
   * order, into the system's file cache (see `VolumeReader.readAhead`): before an incremental
   * backup reads its parent's catalog. Resolves to the bytes read.
   */
  readAhead(type: IndexEntry['type'], options: ReadAheadOptions = {}): Promise<number> {
    return this.#exclusive(options, () => readAheadAll(this.#sealed.values(), type, options));
  }

  /**
   * Reads a blob back, from any volume.
   * @throws {StagingFormatError} `STAGING_BLOB_NOT_FOUND`, `VOLUME_BAD_RECORD`.
   */
  get(id: Uint8Array, options: CallOptions = {}): Promise<SinkBlob> {
    return this.#exclusive(options, async () => {
      const held = this.#held(id);
      if (held !== undefined) return { ...held, id: held.id.slice(), bytes: held.bytes.slice() };
      const location = this.#index.get(id);
      if (location === undefined) throw blobNotFound(id, this.store.path);
      const entry = {
        id,
        offset: location.offset,
        storedLength: location.storedLength,
        type: location.type,
      };
      const sealed = this.#sealed.get(location.volume);
      return sealed !== undefined
        ? sealed.readRecord(entry, options)
        : this.#volume!.readRecord(entry);
    });
  }

  /**
   * Commits a snapshot: flushes, then records it in `staging.json`; its catalog goes into the
   * open volume when that is sealed. Returns the stored record.
   * @throws {TypeError} for a malformed record.
   * @throws {StagingFormatError} `STAGING_SNAPSHOT_EXISTS` when a snapshot with this id is committed.
   */
  async commitSnapshot(
    snapshot: SnapshotRecord,
    options: CallOptions = {},
  ): Promise<StoredSnapshot> {
    checkSnapshot(snapshot);
    return this.#exclusive(options, async () => {
      if (this.#descriptor.snapshots.some((s) => s.id === snapshot.id)) {
        throw new StagingFormatError(
          'STAGING_SNAPSHOT_EXISTS',
          `snapshot "${snapshot.id}" is already committed`,
        );
      }
      await this.#appendHeldTrees();
      let volume = await this.#volumeFor(0);
      await volume.flush();
      const catalogLength = encodeCatalog([...this.#pendingSnapshots(volume), snapshot]).length;
      const max = this.#descriptor.maxVolumeSize;
      const fits = (length: number) =>
        volume.projectedSize(0, 0, length) <= max && length <= MAX_CATALOG_SIZE;
      if (!fits(catalogLength)) {
        await this.#sealCurrent();
        volume = await this.#volumeFor(0);
        if (!fits(encodeCatalog([snapshot]).length)) {
          throw new RangeError(
            `snapshot "${snapshot.id}" is too large for a volume of ${max} bytes`,
          );
        }
      }
      const stored: StoredSnapshot = {
        ...structuredClone(snapshot),
        volume: volume.identity.volumeNumber,
      };
      await this.#update((d) => d.snapshots.push(stored));
      return structuredClone(stored);
    });
  }

  /**
   * Fills in or changes the job binding (a backup may be staged before its import job, storage
   * account and container exist); written to `staging.json` atomically. Returns the new binding.
   * @throws {TypeError} when a given field is not a non-empty string.
   */
  async updateJob(changes: Partial<JobBinding>, options: CallOptions = {}): Promise<JobBinding> {
    checkJob(changes, false);
    return this.#exclusive(options, async () => {
      const fields = Object.fromEntries(
        JOB_FIELDS.filter((f) => changes[f] !== undefined).map((f) => [f, changes[f]]),
      );
      await this.#update((d) => {
        d.job = { ...d.job, ...fields };
      });
      return structuredClone(this.#descriptor.job);
    });
  }

  /** Committed snapshots, oldest first. */
  async *listSnapshots(): AsyncIterableIterator<StoredSnapshot> {
    for (const snapshot of this.#descriptor.snapshots) yield structuredClone(snapshot);
  }

  /**
   * Seals the open volume now (e.g. at the end of a session): it becomes a fixed VHD, its transfer
   * hashes are written, and the next put starts a new volume. Returns its descriptor entry, or
   * `undefined` when no volume was open.
   */
  sealVolume(options: CallOptions = {}): Promise<VolumeEntry | undefined> {
    return this.#exclusive(options, async () => {
      await this.#appendHeldTrees();
      return this.#sealCurrent();
    });
  }

  /**
   * Flushes (and with `seal: true` seals the open volume), then releases the lock. Idempotent.
   * A writer whose write failed closes without flushing: reopen the location to recover.
   */
  async close(options: CallOptions & { seal?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#exclusive(options, async () => {
        if (this.#volume?.failed === true) return;
        await this.#appendHeldTrees();
        if (options.seal === true) await this.#sealCurrent();
        else await this.#volume?.flush();
      });
    } finally {
      this.#closed = true;
      await this.#volume?.close();
      for (const reader of this.#sealed.values()) await reader.close();
      await this.#lock.release();
    }
  }

  /** Runs `operation` after every earlier call has settled. */
  #exclusive<T>(options: CallOptions, operation: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.#closed) {
        throw new StagingFormatError(
          'STAGING_CLOSED',
          `the writer of ${this.store.path} is closed`,
          {
            path: this.store.path,
          },
        );
      }
      options.abortSignal?.throwIfAborted();
      return operation();
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Appends `blob` to the open volume (or the next one) and indexes it. */
  async #append(blob: SinkBlob): Promise<void> {
    const volume = await this.#volumeFor(blob.bytes.length);
    const entry = await volume.append(blob);
    this.#index.add(blob.id, { volume: volume.identity.volumeNumber, ...entry });
  }

  /** The catalog blob `id`, if it is held back. */
  #held(id: Uint8Array): SinkBlob | undefined {
    return this.#heldTrees.size === 0 ? undefined : this.#heldTrees.get(toHex(id));
  }

  /** Appends the catalog blobs held back, one after another. */
  async #appendHeldTrees(): Promise<void> {
    for (const [key, blob] of this.#heldTrees) {
      await this.#append(blob);
      this.#heldTrees.delete(key);
      this.#heldTreeBytes -= blob.bytes.length;
    }
  }

  /** The open volume, after a rollover if a record of `storedLength` bytes would not fit. */
  async #volumeFor(storedLength: number): Promise<VolumeWriter> {
    const max = this.#descriptor.maxVolumeSize;
    const recordBytes = storedLength === 0 ? 0 : RECORD_HEADER_SIZE + storedLength;
    const entries = storedLength === 0 ? 0 : 1;
    if (this.#volume !== undefined) {
      const catalogLength = encodeCatalog(this.#pendingSnapshots(this.#volume)).length;
      if (this.#volume.projectedSize(recordBytes, entries, catalogLength) <= max)
        return this.#volume;
      if (this.#volume.recordCount === 0 && catalogLength === EMPTY_CATALOG)
        throw tooLarge(storedLength, max);
      await this.#sealCurrent();
    }
    const volume = await this.#createVolume();
    if (volume.projectedSize(recordBytes, entries, EMPTY_CATALOG) > max)
      throw tooLarge(storedLength, max);
    return volume;
  }

  async #createVolume(): Promise<VolumeWriter> {
    const number = this.#descriptor.volumes.length + 1;
    const now = new Date();
    const entry: VolumeEntry = {
      number,
      file: volumeFileName(number),
      state: 'open',
      createdAt: now.toISOString(),
    };
    // Listed first: a crash before the file exists leaves a listed volume that recovery recreates.
    await this.#update((d) => d.volumes.push(entry));
    const file = await this.store.createVolume(entry.file);
    this.#volume = await VolumeWriter.create(
      file,
      this.store.pathOf(entry.file),
      { stagingId: parseUuid(this.#descriptor.stagingId)!, volumeNumber: number },
      now.getTime(),
    );
    return this.#volume;
  }

  async #sealCurrent(): Promise<VolumeEntry | undefined> {
    const volume = this.#volume;
    if (volume === undefined) return undefined;
    const number = volume.identity.volumeNumber;
    const sealed = await volume.seal(this.#pendingSnapshots(volume), Date.now());
    await volume.close();
    this.#volume = undefined;
    const entry = this.#descriptor.volumes[number - 1]!;
    const source = await this.store.openSource(entry.file);
    const reader = await VolumeReader.open(source, {
      path: this.store.pathOf(entry.file),
      expect: { stagingId: this.#descriptor.stagingId, volumeNumber: number },
    });
    return this.#recordSealed(entry, reader, sealed.size, sealed.transferRanges);
  }

  /** Writes the transfer hashes and marks the volume sealed in the descriptor. */
  async #recordSealed(
    entry: VolumeEntry,
    reader: VolumeReader,
    size: number,
    transferRanges: TransferRange[],
  ): Promise<VolumeEntry> {
    const sidecar = encodeTransferHashes(entry.number, size, transferRanges);
    const sidecarFile = transferHashesFileName(entry.number);
    await this.store.writeFileAtomic(sidecarFile, sidecar);
    const sealedEntry: VolumeEntry = {
      ...entry,
      state: 'sealed',
      sealedAt: new Date(reader.trailer.sealedAtMs).toISOString(),
      size,
      recordCount: reader.recordCount,
      transferHashes: { file: sidecarFile, sha256: toHex(await sha256(sidecar)) },
    };
    await this.#update((d) => {
      d.volumes[entry.number - 1] = sealedEntry;
    });
    this.#sealed.set(entry.number, reader);
    return structuredClone(sealedEntry);
  }

  async #loadSealed(entry: VolumeEntry, options: CallOptions): Promise<void> {
    const reader = await openSealedVolume(this.store, this.#descriptor, entry, options);
    this.#indexVolume(entry.number, reader);
    this.#sealed.set(entry.number, reader);
  }

  #indexVolume(volume: number, reader: VolumeReader): void {
    for (const entry of reader.entries()) this.#index.add(entry.id, { volume, ...entry });
  }

  #pendingSnapshots(volume: VolumeWriter): SnapshotRecord[] {
    return this.#descriptor.snapshots
      .filter((s) => s.volume === volume.identity.volumeNumber)
      .map(({ volume: _, ...snapshot }) => snapshot);
  }

  /** Applies `change` to a copy of the descriptor, writes it atomically, then adopts it. */
  async #update(change: (descriptor: StagingDescriptor) => void): Promise<void> {
    const next = structuredClone(this.#descriptor);
    change(next);
    await writeDescriptor(this.store, next);
    this.#descriptor = next;
  }
}

/**
 * Opens a sealed volume the descriptor lists and checks it against its entry.
 * @throws {StagingFormatError} `STAGING_MISSING_VOLUME`, `VOLUME_TRUNCATED` (size differs from the
 *   descriptor), `VOLUME_FOREIGN`, or any error of {@link VolumeReader.open}.
 */
export async function openSealedVolume(
  store: LocationStore,
  descriptor: StagingDescriptor,
  entry: VolumeEntry,
  options: CallOptions = {},
): Promise<VolumeReader> {
  const path = store.pathOf(entry.file);
  if (!(await store.listVolumeFiles()).includes(entry.file)) {
    throw new StagingFormatError(
      'STAGING_MISSING_VOLUME',
      `volume ${entry.number} (${path}) is missing`,
      { path },
    );
  }
  const source = await store.openSource(entry.file);
  try {
    if (source.size !== entry.size) {
      throw new StagingFormatError(
        'VOLUME_TRUNCATED',
        `${path} has ${source.size} bytes; the descriptor recorded ${entry.size} when it was sealed`,
        { path, offset: Math.min(source.size, entry.size ?? 0) },
      );
    }
    return await VolumeReader.open(source, {
      path,
      expect: { stagingId: descriptor.stagingId, volumeNumber: entry.number },
      ...options,
    });
  } catch (error) {
    await source.close();
    throw error;
  }
}

/**
 * Refuses volume files the descriptor does not list (a volume of another location copied in, or
 * a leftover) and sealed volumes that are missing.
 */
export async function checkVolumeFiles(
  store: LocationStore,
  descriptor: StagingDescriptor,
): Promise<void> {
  const files = new Set(await store.listVolumeFiles());
  const known = new Set(
    descriptor.volumes.flatMap((v) => [v.file, transferHashesFileName(v.number)]),
  );
  for (const file of files) {
    if (file.endsWith('.vhd') && !known.has(file)) {
      throw new StagingFormatError(
        'STAGING_EXTRA_VOLUME',
        `${store.pathOf(file)} is not a volume of this location (staging.json lists ${descriptor.volumes.length})`,
        { path: store.pathOf(file) },
      );
    }
  }
  for (const volume of descriptor.volumes) {
    if (volume.state === 'sealed' && !files.has(volume.file)) {
      throw new StagingFormatError(
        'STAGING_MISSING_VOLUME',
        `volume ${volume.number} (${store.pathOf(volume.file)}) is missing`,
        {
          path: store.pathOf(volume.file),
        },
      );
    }
  }
}

function newDescriptor(options: CreateStagingOptions): StagingDescriptor {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('"options" expected an object');
  const {
    job,
    crypto: cryptoParameters,
    chunker,
    maxVolumeSize = DEFAULT_MAX_VOLUME_SIZE,
  } = options;
  checkJob(job, true);
  if (cryptoParameters !== null) {
    for (const field of ['kdf', 'salt', 'keyCheck'] as const) {
      if (typeof cryptoParameters?.[field] !== 'string' || cryptoParameters[field] === '') {
        throw new TypeError(`"crypto.${field}" expected a non-empty string (or pass crypto: null)`);
      }
    }
    assertNoSecrets(cryptoParameters, 'crypto');
  }
  if (typeof chunker !== 'object' || chunker === null)
    throw new TypeError('"chunker" expected an object');
  assertNoSecrets(chunker, 'chunker');
  if (
    !Number.isSafeInteger(maxVolumeSize) ||
    maxVolumeSize < MIN_VOLUME_SIZE ||
    maxVolumeSize > MAX_VOLUME_SIZE
  ) {
    throw new RangeError(
      `"maxVolumeSize" expected an integer from ${MIN_VOLUME_SIZE} to ${MAX_VOLUME_SIZE} (8 TiB, the largest page blob), got ${maxVolumeSize}`,
    );
  }
  const stagingId = options.stagingId ?? crypto.randomUUID();
  if (parseUuid(stagingId) === undefined)
    throw new TypeError('"stagingId" expected a lower-case UUID');
  return {
    format: DESCRIPTOR_FORMAT,
    version: STAGING_FORMAT_VERSION,
    stagingId: formatUuid(parseUuid(stagingId)!),
    createdAt: new Date().toISOString(),
    job: structuredClone(job),
    crypto: structuredClone(cryptoParameters),
    chunker: structuredClone(chunker),
    maxVolumeSize,
    volumes: [],
    snapshots: [],
  };
}

const JOB_FIELDS = [
  'jobName',
  'subscriptionId',
  'resourceGroup',
  'storageAccountId',
  'container',
] as const;

/** Every field given must be a non-empty string; `jobName` is required when `complete`. */
function checkJob(job: Partial<JobBinding> | undefined, complete: boolean): void {
  if (typeof job !== 'object' || job === null) throw new TypeError('"job" expected an object');
  for (const field of JOB_FIELDS) {
    const optional = (field !== 'jobName' || !complete) && job[field] === undefined;
    if (!optional && (typeof job[field] !== 'string' || job[field] === '')) {
      throw new TypeError(`"job.${field}" expected a non-empty string`);
    }
  }
}

function checkBlob(blob: SinkBlob): void {
  if (typeof blob !== 'object' || blob === null) throw new TypeError('"blob" expected an object');
  if (!(blob.id instanceof Uint8Array) || blob.id.length !== BLOB_ID_SIZE) {
    throw new TypeError(`"blob.id" expected a Uint8Array of ${BLOB_ID_SIZE} bytes`);
  }
  if (blob.type !== 'data' && blob.type !== 'tree')
    throw new TypeError('"blob.type" expected "data" or "tree"');
  if (!Number.isSafeInteger(blob.rawLength) || blob.rawLength < 0) {
    throw new RangeError(
      `"blob.rawLength" expected a non-negative safe integer, got ${blob.rawLength}`,
    );
  }
  if (!(blob.bytes instanceof Uint8Array))
    throw new TypeError('"blob.bytes" expected a Uint8Array');
  if (blob.bytes.length > MAX_BLOB_SIZE) {
    throw new RangeError(
      `"blob.bytes" is ${blob.bytes.length} bytes; the most a record holds is ${MAX_BLOB_SIZE}`,
    );
  }
}

function checkSnapshot(snapshot: SnapshotRecord): void {
  if (typeof snapshot !== 'object' || snapshot === null)
    throw new TypeError('"snapshot" expected an object');
  for (const field of ['id', 'time', 'rootId'] as const) {
    if (typeof snapshot[field] !== 'string' || snapshot[field] === '') {
      throw new TypeError(`"snapshot.${field}" expected a non-empty string`);
    }
  }
  if (Number.isNaN(Date.parse(snapshot.time)))
    throw new TypeError('"snapshot.time" expected an ISO 8601 time');
  if (snapshot.parentId !== undefined && typeof snapshot.parentId !== 'string') {
    throw new TypeError('"snapshot.parentId" expected a string');
  }
  if (typeof snapshot.stats !== 'object' || snapshot.stats === null)
    throw new TypeError('"snapshot.stats" expected an object');
}

function tooLarge(storedLength: number, max: number): RangeError {
  return new RangeError(
    `a blob of ${storedLength} bytes does not fit in a volume of at most ${max} bytes`,
  );
}
