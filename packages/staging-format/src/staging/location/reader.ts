import type { ByteSource, ReadOptions } from '../../byte-source/byte-source.ts';
import { isStagingFormatError, StagingFormatError } from '../../errors.ts';
import { toHex } from '../format/bytes.ts';
import { RECORD_HEADER_SIZE, SUPERBLOCK_SIZE } from '../format/constants.ts';
import type { StagingDescriptor, StoredSnapshot, VolumeEntry } from '../format/descriptor.ts';
import type { IndexEntry } from '../format/sections.ts';
import { sha256 } from '../hashing/hasher.ts';
import { blobFromRecord, blobNotFound } from '../reader/record.ts';
import { scanRecords } from '../reader/scan.ts';
import type { VerifyOptions, VolumeVerification } from '../reader/volume-reader.ts';
import { VolumeSet } from '../reader/volume-set.ts';
import type { BlobSource, SinkBlob } from '../sink.ts';
import type { LocationStore } from '../store/store.ts';
import { BlobIndex } from '../writer/blob-index.ts';
import { readDescriptor } from './descriptor-io.ts';
import { decodeSuperblockOf } from './recovery.ts';
import { decodeTransferHashes, type TransferHashes } from './transfer-hashes.ts';
import { checkVolumeFiles, openSealedVolume } from './writer.ts';

/** The volume still being written (or left open by a crash), as a read-only scan found it. */
export interface UnsealedVolumeState {
  volume: number;
  /** Complete records found. */
  records: number;
  /** Bytes after the last complete record (a torn tail, or a write in progress). */
  tailBytes: number;
}

/** Result of {@link StagingReader.verify}. */
export interface StagingVerification {
  volumes: VolumeVerification[];
  unsealed: UnsealedVolumeState | undefined;
  /** Transfer-hash sidecars that are missing, damaged or do not match `staging.json`. */
  damagedTransferHashes: Array<{ volume: number; code: string; message: string }>;
  /** True when every sealed volume and its transfer hashes verified intact. */
  ok: boolean;
}

/**
 * A staging location opened for reading, without the writer's lock: it never changes anything.
 * The open volume of a location being written (or crashed) is read through a scan that stops at
 * the first incomplete record.
 */
export class StagingReader implements BlobSource {
  readonly store: LocationStore;
  readonly descriptor: StagingDescriptor;
  readonly sealed: VolumeSet;
  readonly unsealed: UnsealedVolumeState | undefined;
  readonly #open: { source: ByteSource; path: string; index: BlobIndex } | undefined;

  private constructor(
    store: LocationStore,
    descriptor: StagingDescriptor,
    sealed: VolumeSet,
    open?: { source: ByteSource; path: string; index: BlobIndex; state: UnsealedVolumeState },
  ) {
    this.store = store;
    this.descriptor = descriptor;
    this.sealed = sealed;
    this.unsealed = open?.state;
    this.#open = open;
  }

  /**
   * Opens the location in `store`: checks the descriptor, that every listed volume exists and no
   * other does, and opens each sealed volume (footer, trailer, superblock, index, catalog).
   */
  static async open(store: LocationStore, options: ReadOptions = {}): Promise<StagingReader> {
    const descriptor = await readDescriptor(store);
    await checkVolumeFiles(store, descriptor);
    const readers = [];
    try {
      for (const entry of descriptor.volumes) {
        if (entry.state === 'sealed')
          readers.push(await openSealedVolume(store, descriptor, entry, options));
      }
      const sealed = VolumeSet.of(readers, descriptor.stagingId);
      const last = descriptor.volumes.at(-1);
      const open =
        last?.state === 'open' ? await scanOpenVolume(store, descriptor, last) : undefined;
      return new StagingReader(store, descriptor, sealed, open);
    } catch (error) {
      await Promise.all(readers.map((reader) => reader.close()));
      throw error;
    }
  }

  has(id: Uint8Array): boolean {
    return this.sealed.has(id) || this.#open?.index.has(id) === true;
  }

  /** @throws {StagingFormatError} `STAGING_BLOB_NOT_FOUND`, `VOLUME_BAD_RECORD`. */
  async get(id: Uint8Array, options: ReadOptions = {}): Promise<SinkBlob> {
    if (this.sealed.has(id)) return this.sealed.get(id, options);
    const location = this.#open?.index.get(id);
    if (location === undefined || this.#open === undefined) throw blobNotFound(id, this.store.path);
    const entry: IndexEntry = { id, ...location };
    const bytes = await this.#open.source.read(
      entry.offset,
      RECORD_HEADER_SIZE + entry.storedLength,
      options,
    );
    return blobFromRecord(bytes, entry, this.#open.path);
  }

  /**
   * The transfer hashes of sealed volume `volumeNumber` (MD5 per non-zero range, what a drive
   * manifest lists), checked against the SHA-256 and the volume size `staging.json` recorded.
   * @throws {RangeError} when the location has no such sealed volume.
   * @throws {StagingFormatError} `STAGING_MISSING_VOLUME` when the sidecar is missing,
   *   `STAGING_BAD_DESCRIPTOR` when it is damaged or does not match.
   */
  async transferHashes(volumeNumber: number): Promise<TransferHashes> {
    const entry = this.descriptor.volumes[volumeNumber - 1];
    if (entry?.state !== 'sealed' || entry.transferHashes === undefined) {
      throw new RangeError(
        `"volumeNumber" expected a sealed volume of this location, got ${volumeNumber}`,
      );
    }
    const path = this.store.pathOf(entry.transferHashes.file);
    const bytes = await this.store.readFile(entry.transferHashes.file);
    if (bytes === undefined) {
      throw new StagingFormatError(
        'STAGING_MISSING_VOLUME',
        `${path} (transfer hashes of volume ${volumeNumber}) is missing`,
        { path },
      );
    }
    if (toHex(await sha256(bytes)) !== entry.transferHashes.sha256) {
      throw new StagingFormatError(
        'STAGING_BAD_DESCRIPTOR',
        `${path} does not match the SHA-256 in staging.json`,
        { path },
      );
    }
    const hashes = decodeTransferHashes(bytes, path);
    if (hashes.volume !== volumeNumber || hashes.fileSize !== entry.size) {
      throw new StagingFormatError('STAGING_BAD_DESCRIPTOR', `${path} describes another volume`, {
        path,
      });
    }
    return hashes;
  }

  /** Committed snapshots, oldest first, as `staging.json` records them. */
  async *listSnapshots(): AsyncIterableIterator<StoredSnapshot> {
    for (const snapshot of this.descriptor.snapshots) yield structuredClone(snapshot);
  }

  /**
   * Verifies every sealed volume (all blocks, all records) and its transfer-hash sidecar; reports
   * the open volume's scan.
   */
  async verify(options: VerifyOptions = {}): Promise<StagingVerification> {
    const volumes = await this.sealed.verify(options);
    const damagedTransferHashes: StagingVerification['damagedTransferHashes'] = [];
    for (const { volumeNumber } of volumes) {
      try {
        await this.transferHashes(volumeNumber);
      } catch (error) {
        if (!isStagingFormatError(error)) throw error;
        damagedTransferHashes.push({
          volume: volumeNumber,
          code: error.code,
          message: error.message,
        });
      }
    }
    return {
      volumes,
      unsealed: this.unsealed,
      damagedTransferHashes,
      ok: volumes.every((volume) => volume.ok) && damagedTransferHashes.length === 0,
    };
  }

  async close(): Promise<void> {
    await this.sealed.close();
    await this.#open?.source.close();
  }
}

async function scanOpenVolume(
  store: LocationStore,
  descriptor: StagingDescriptor,
  entry: VolumeEntry,
) {
  const path = store.pathOf(entry.file);
  if (!(await store.listVolumeFiles()).includes(entry.file)) return undefined;
  const source = await store.openSource(entry.file);
  try {
    const index = new BlobIndex();
    let state: UnsealedVolumeState = { volume: entry.number, records: 0, tailBytes: source.size };
    if (source.size >= SUPERBLOCK_SIZE) {
      decodeSuperblockOf(
        await source.read(0, SUPERBLOCK_SIZE),
        path,
        descriptor.stagingId,
        entry.number,
      );
      const scan = await scanRecords((offset, length) => source.read(offset, length), source.size);
      for (const record of scan.entries) index.add(record.id, { volume: entry.number, ...record });
      state = { volume: entry.number, records: scan.entries.length, tailBytes: scan.tailBytes };
    }
    return { source, path, index, state };
  } catch (error) {
    await source.close();
    throw error;
  }
}
