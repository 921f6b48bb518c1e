import type { ByteSource, ReadOptions } from '../../byte-source/byte-source.ts';
import { StagingFormatError } from '../../errors.ts';
import type { StoredSnapshot } from '../format/descriptor.ts';
import type { IndexEntry } from '../format/sections.ts';
import type { BlobSource, SinkBlob } from '../sink.ts';
import { BlobIndex } from '../writer/blob-index.ts';
import { blobNotFound } from './record.ts';
import {
  type ReadAheadOptions,
  readAheadAll,
  type VerifyOptions,
  VolumeReader,
  type VolumeVerification,
} from './volume-reader.ts';

export interface OpenVolumeSetOptions extends ReadOptions {
  /** Names of the sources (paths, blob URLs), in the same order, for errors. */
  names?: readonly string[];
  /** Refuse volumes of any other staging location. */
  stagingId?: string;
}

/**
 * The sealed volumes of one staging location, read from any byte sources (files, buffers, page
 * blobs) without its descriptor: blobs by id across volumes, snapshots from the volumes' catalogs.
 */
export class VolumeSet implements BlobSource {
  readonly volumes: readonly VolumeReader[];
  readonly #index = new BlobIndex();

  private constructor(volumes: VolumeReader[]) {
    this.volumes = volumes;
    for (const volume of volumes) {
      for (const entry of volume.entries())
        this.#index.add(entry.id, { volume: volume.volumeNumber, ...entry });
    }
  }

  /**
   * Opens every source as a sealed volume and checks that together they are volumes 1…n of one
   * location, each once.
   * @throws {StagingFormatError} `VOLUME_FOREIGN` (another location), `STAGING_EXTRA_VOLUME`
   *   (a number twice), `STAGING_MISSING_VOLUME` (a gap), or any error of {@link VolumeReader.open}.
   */
  static async open(
    sources: readonly ByteSource[],
    options: OpenVolumeSetOptions = {},
  ): Promise<VolumeSet> {
    const readers: VolumeReader[] = [];
    try {
      for (const [i, source] of sources.entries()) {
        const path = options.names?.[i];
        readers.push(
          await VolumeReader.open(source, {
            ...(path === undefined ? {} : { path }),
            ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
          }),
        );
      }
      return VolumeSet.of(readers, options.stagingId);
    } catch (error) {
      await Promise.all(readers.map((reader) => reader.close()));
      throw error;
    }
  }

  /** A set over volumes already open; checks them as {@link open} does. */
  static of(readers: readonly VolumeReader[], stagingId?: string): VolumeSet {
    const sorted = [...readers].sort((a, b) => a.volumeNumber - b.volumeNumber);
    const expected = stagingId ?? sorted[0]?.stagingId;
    for (const [i, reader] of sorted.entries()) {
      const where = reader.path === undefined ? {} : { path: reader.path };
      if (reader.stagingId !== expected) {
        throw new StagingFormatError(
          'VOLUME_FOREIGN',
          `${reader.path ?? `volume ${reader.volumeNumber}`} belongs to staging location ${reader.stagingId}, not ${expected}`,
          { ...where, offset: 0 },
        );
      }
      if (reader.volumeNumber === sorted[i - 1]?.volumeNumber) {
        throw new StagingFormatError(
          'STAGING_EXTRA_VOLUME',
          `volume ${reader.volumeNumber} is given twice`,
          where,
        );
      }
      if (reader.volumeNumber !== i + 1) {
        throw new StagingFormatError('STAGING_MISSING_VOLUME', `volume ${i + 1} is missing`, where);
      }
    }
    return new VolumeSet(sorted);
  }

  has(id: Uint8Array): boolean {
    return this.#index.has(id);
  }

  /** @throws {StagingFormatError} `STAGING_BLOB_NOT_FOUND`, `VOLUME_BAD_RECORD`. */
  async get(id: Uint8Array, options: ReadOptions = {}): Promise<SinkBlob> {
    const location = this.#index.get(id);
    if (location === undefined) throw blobNotFound(id, 'these volumes');
    const volume = this.volumes[location.volume - 1]!;
    return volume.readRecord({ id, ...location }, options);
  }

  /** Snapshots from the volumes' catalogs, oldest volume first. */
  async *listSnapshots(): AsyncIterableIterator<StoredSnapshot> {
    for (const volume of this.volumes) {
      for (const snapshot of volume.snapshots)
        yield { ...structuredClone(snapshot), volume: volume.volumeNumber };
    }
  }

  /** Reads ahead the records of one type in every volume (see `VolumeReader.readAhead`). */
  async readAhead(type: IndexEntry['type'], options: ReadAheadOptions = {}): Promise<number> {
    return readAheadAll(this.volumes, type, options);
  }

  /** Verifies every volume in turn; progress counts bytes over all of them. */
  async verify(options: VerifyOptions = {}): Promise<VolumeVerification[]> {
    const total = this.volumes.reduce((sum, volume) => sum + volume.trailer.table.offset, 0);
    let before = 0;
    const results: VolumeVerification[] = [];
    for (const volume of this.volumes) {
      results.push(
        await volume.verify({
          ...options,
          onProgress: ({ bytesDone }) =>
            options.onProgress?.({ bytesDone: before + bytesDone, bytesTotal: total }),
        }),
      );
      before += volume.trailer.table.offset;
    }
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.volumes.map((volume) => volume.close()));
  }
}
