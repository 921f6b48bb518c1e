import { pageAlignedBytes } from '../../byte-source/aligned.ts';
import { type ByteSource, type ReadOptions, readInto } from '../../byte-source/byte-source.ts';
import { StagingFormatError } from '../../errors.ts';
import { azureCompatibility, FOOTER_SIZE, type Progress } from '../../vhd/index.ts';
import { bytesEqual, formatUuid, toHex } from '../format/bytes.ts';
import {
  CHECKSUM_BLOCK_SIZE,
  MiB,
  RECORD_HEADER_SIZE,
  SUPERBLOCK_SIZE,
  TRAILER_SIZE,
} from '../format/constants.ts';
import type { SnapshotRecord } from '../format/descriptor.ts';
import { decodeRecordHeader, headerCrc } from '../format/record.ts';
import { decodeCatalog, type IndexEntry, VolumeIndex } from '../format/sections.ts';
import { decodeSuperblock, type Superblock } from '../format/superblock.ts';
import { decodeTrailer, type Trailer } from '../format/trailer.ts';
import { crc32 } from '../hashing/crc32.ts';
import { sha256 } from '../hashing/hasher.ts';
import type { BlobSource, SinkBlob } from '../sink.ts';
import { blobFromRecord, blobNotFound, recordProblem } from './record.ts';

/** Options of {@link VolumeReader.open}. */
export interface OpenVolumeOptions extends ReadOptions {
  /** Path or name of the volume, used in errors. */
  path?: string;
  /** Refuse the volume unless it belongs to this location and has this number. */
  expect?: { stagingId: string; volumeNumber: number };
}

/** Options of `readAhead()`. */
export interface ReadAheadOptions extends ReadOptions {
  /** Bytes to read at most; default no limit. */
  maxBytes?: number;
}

/** Records at most this far apart are read in one piece… */
const readAheadGap = 256 * 1024;
/** …of at most this many bytes (unless one record is larger). */
const readAheadSpan = 8 * 1024 * 1024;

/** Options of `verify()`: progress in bytes of payload read and checked. */
export interface VerifyOptions extends ReadOptions {
  onProgress?: (progress: Progress) => void;
  /**
   * Called with each blob whose record checks out, in file order, as the pass reads it (its
   * bytes are its own): to check contents in the same single read of the volume. Awaited, so it
   * can hold the pass back.
   */
  onBlob?: (blob: SinkBlob) => void | Promise<void>;
}

/** A 2 MiB block whose SHA-256 does not match the table. */
export interface DamagedBlock {
  /** Block number, from 0. */
  block: number;
  offset: number;
  length: number;
  /** Hex ids of the blobs with bytes in the block. */
  blobIds: string[];
}

/** A blob whose record fails its checks. */
export interface DamagedBlob {
  id: string;
  /** Offset of the record header. */
  offset: number;
  reason: string;
}

/** Result of {@link VolumeReader.verify}. */
export interface VolumeVerification {
  volumeNumber: number;
  path?: string;
  blockCount: number;
  recordCount: number;
  damagedBlocks: DamagedBlock[];
  damagedBlobs: DamagedBlob[];
  /** True when every block and record is intact. */
  ok: boolean;
}

/**
 * A sealed volume, read from any {@link ByteSource} (a file, a buffer, a page blob). Opening checks
 * the VHD footer (and Azure's rules), the trailer, the superblock, the checksum table against the
 * trailer and the whole index, and reads the catalog: what remains unchecked is record data, which
 * {@link get} checks per blob and {@link verify} checks in full.
 */
export class VolumeReader implements BlobSource {
  readonly source: ByteSource;
  readonly path: string | undefined;
  readonly superblock: Superblock;
  readonly trailer: Trailer;
  /** The snapshots this volume ends. */
  readonly snapshots: readonly SnapshotRecord[];
  readonly #index: VolumeIndex;
  readonly #table: Uint8Array;

  private constructor(
    source: ByteSource,
    path: string | undefined,
    parts: {
      superblock: Superblock;
      trailer: Trailer;
      snapshots: SnapshotRecord[];
      index: VolumeIndex;
      table: Uint8Array;
    },
  ) {
    this.source = source;
    this.path = path;
    this.superblock = parts.superblock;
    this.trailer = parts.trailer;
    this.snapshots = parts.snapshots;
    this.#index = parts.index;
    this.#table = parts.table;
  }

  /**
   * Opens a sealed volume.
   * @throws {StagingFormatError} `VOLUME_TRUNCATED`, `VOLUME_NOT_SEALED`, `VOLUME_BAD_TRAILER`,
   *   `VOLUME_BAD_SUPERBLOCK`, `VOLUME_FOREIGN`, `VOLUME_BAD_CHECKSUM_TABLE`, `VOLUME_BAD_INDEX`,
   *   `VOLUME_BAD_CATALOG`, `STAGING_UNSUPPORTED_VERSION`, each with the offset concerned.
   */
  static async open(source: ByteSource, options: OpenVolumeOptions = {}): Promise<VolumeReader> {
    const { path, abortSignal } = options;
    const read = { ...(abortSignal === undefined ? {} : { abortSignal }) };
    const name = path ?? 'volume';
    const where = (offset: number) => ({ offset, ...(path === undefined ? {} : { path }) });
    const minimum = MiB + FOOTER_SIZE;
    if (source.size < minimum || (source.size - FOOTER_SIZE) % MiB !== 0) {
      const code = source.size < SUPERBLOCK_SIZE ? 'VOLUME_TRUNCATED' : 'VOLUME_NOT_SEALED';
      throw new StagingFormatError(
        code,
        `${name}: ${source.size} bytes is not a sealed volume's size (a whole number of MiB plus the 512-byte footer)`,
        where(source.size),
      );
    }
    const problems = (
      await azureCompatibility(source, { ...read, ...(path === undefined ? {} : { name: path }) })
    ).filter((problem) => problem.severity === 'error');
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new StagingFormatError(
        'VOLUME_NOT_SEALED',
        `${name}: the VHD footer is not valid: ${first.message}`,
        where(first.offset ?? source.size - FOOTER_SIZE),
      );
    }
    const trailerOffset = source.size - FOOTER_SIZE - TRAILER_SIZE;
    const trailer = decodeTrailer(
      await source.read(trailerOffset, TRAILER_SIZE, read),
      trailerOffset,
      SUPERBLOCK_SIZE,
      path,
    );
    const superblock = decodeSuperblock(await source.read(0, SUPERBLOCK_SIZE, read), path);
    if (
      !bytesEqual(superblock.stagingId, trailer.stagingId) ||
      superblock.volumeNumber !== trailer.volumeNumber
    ) {
      throw new StagingFormatError(
        'VOLUME_BAD_TRAILER',
        `${name}: trailer and superblock disagree on the volume's identity`,
        where(trailerOffset),
      );
    }
    const expect = options.expect;
    if (expect !== undefined) {
      const stagingId = formatUuid(superblock.stagingId);
      if (stagingId !== expect.stagingId || superblock.volumeNumber !== expect.volumeNumber) {
        throw new StagingFormatError(
          'VOLUME_FOREIGN',
          `${name} is volume ${superblock.volumeNumber} of staging location ${stagingId}, expected volume ${expect.volumeNumber} of ${expect.stagingId}`,
          where(0),
        );
      }
    }
    const table = await source.read(trailer.table.offset, trailer.table.length, read);
    if (!bytesEqual(await sha256(table), trailer.tableSha256)) {
      throw new StagingFormatError(
        'VOLUME_BAD_CHECKSUM_TABLE',
        `${name}: the block checksum table does not match the trailer`,
        where(trailer.table.offset),
      );
    }
    const indexBytes = await source.read(trailer.index.offset, trailer.index.length, read);
    const index = new VolumeIndex(indexBytes, trailer.index, SUPERBLOCK_SIZE, path);
    const snapshots = decodeCatalog(
      await source.read(trailer.catalog.offset, trailer.catalog.length, read),
      trailer.catalog.offset,
      path,
    );
    return new VolumeReader(source, path, { superblock, trailer, snapshots, index, table });
  }

  get volumeNumber(): number {
    return this.superblock.volumeNumber;
  }

  get stagingId(): string {
    return formatUuid(this.superblock.stagingId);
  }

  get recordCount(): number {
    return this.#index.count;
  }

  has(id: Uint8Array): boolean {
    return this.#index.find(id) >= 0;
  }

  /** Index entries in id order. */
  entries(): IterableIterator<IndexEntry> {
    return this.#index.entries();
  }

  /**
   * Reads a blob and checks its record (header against the index, CRC).
   * @throws {StagingFormatError} `STAGING_BLOB_NOT_FOUND`, `VOLUME_BAD_RECORD`.
   */
  async get(id: Uint8Array, options: ReadOptions = {}): Promise<SinkBlob> {
    const position = this.#index.find(id);
    if (position < 0) throw blobNotFound(id, this.path ?? 'this volume', this.path);
    return this.readRecord(this.#index.entry(position), options);
  }

  /** Reads and checks the record an index entry points at. */
  async readRecord(entry: IndexEntry, options: ReadOptions = {}): Promise<SinkBlob> {
    const bytes = await this.source.read(
      entry.offset,
      RECORD_HEADER_SIZE + entry.storedLength,
      options,
    );
    return blobFromRecord(bytes, entry, this.path);
  }

  /**
   * Reads every record of one type (`tree`: the catalogs) in file order, records close together
   * in one read, and drops the bytes: through a file source this fills the system's file cache,
   * so that reading those records later, in any order, costs no seeks. An incremental backup
   * reads its parent's catalog page by page in walk order, which on a cold disk is one seek a
   * page. Resolves to the bytes read.
   */
  async readAhead(type: IndexEntry['type'], options: ReadAheadOptions = {}): Promise<number> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const records = [...this.#index.entries()]
      .filter((entry) => entry.type === type)
      .sort((a, b) => a.offset - b.offset);
    let buffer = new Uint8Array(0);
    let done = 0;
    const read = async (start: number, end: number) => {
      // One buffer for all reads, grown to the largest (at least 1 MiB, so it rarely grows).
      if (buffer.length < end - start) buffer = new Uint8Array(Math.max(end - start, 1024 * 1024));
      await readInto(this.source, buffer.subarray(0, end - start), start, options);
      done += end - start;
    };
    let start = -1;
    let end = 0;
    for (const record of records) {
      const recordEnd = record.offset + RECORD_HEADER_SIZE + record.storedLength;
      if (start >= 0 && record.offset - end <= readAheadGap && recordEnd - start <= readAheadSpan) {
        end = recordEnd;
        continue;
      }
      if (start >= 0) await read(start, end);
      if (done >= maxBytes) return done;
      start = record.offset;
      end = recordEnd;
    }
    if (start >= 0) await read(start, end);
    return done;
  }

  /**
   * Reads the whole payload once: checks every 2 MiB block against the table and every record's
   * header and CRC, and reports what is damaged (and which blobs a damaged block holds) instead of
   * stopping at the first problem. Read errors of the source still reject.
   */
  async verify(options: VerifyOptions = {}): Promise<VolumeVerification> {
    const read = {
      ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
    };
    const end = this.trailer.table.offset;
    const blockCount = Math.ceil(end / CHECKSUM_BLOCK_SIZE);
    const records = [...this.#index.entries()].sort((a, b) => a.offset - b.offset);
    const damagedBlocks: DamagedBlock[] = [];
    const damagedBlobs: DamagedBlob[] = [];
    const checker = new RecordStreamChecker(records, damagedBlobs, options.onBlob !== undefined);
    // One buffer for every block: neither the hash nor the checker keeps what it is given.
    const buffer = pageAlignedBytes(Math.min(CHECKSUM_BLOCK_SIZE, end));
    for (let block = 0; block < blockCount; block++) {
      const offset = block * CHECKSUM_BLOCK_SIZE;
      const length = Math.min(CHECKSUM_BLOCK_SIZE, end - offset);
      const bytes = buffer.subarray(0, length);
      await readInto(this.source, bytes, offset, read);
      const expected = this.#table.subarray(block * 32, block * 32 + 32);
      if (!bytesEqual(await sha256(bytes), expected)) {
        damagedBlocks.push({
          block,
          offset,
          length,
          blobIds: blobsIn(records, offset, offset + length),
        });
      }
      checker.push(offset, bytes);
      for (const blob of checker.takeBlobs()) await options.onBlob?.(blob);
      options.onProgress?.({ bytesDone: offset + length, bytesTotal: end });
    }
    return {
      volumeNumber: this.volumeNumber,
      ...(this.path === undefined ? {} : { path: this.path }),
      blockCount,
      recordCount: records.length,
      damagedBlocks,
      damagedBlobs,
      ok: damagedBlocks.length === 0 && damagedBlobs.length === 0,
    };
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}

/** Reads ahead the records of one type in each volume in turn, within one byte budget. */
export async function readAheadAll(
  volumes: Iterable<VolumeReader>,
  type: IndexEntry['type'],
  options: ReadAheadOptions = {},
): Promise<number> {
  let done = 0;
  for (const volume of volumes) {
    const maxBytes = (options.maxBytes ?? Number.POSITIVE_INFINITY) - done;
    if (maxBytes <= 0) break;
    done += await volume.readAhead(type, { ...options, maxBytes });
  }
  return done;
}

function blobsIn(byOffset: readonly IndexEntry[], start: number, end: number): string[] {
  return byOffset
    .filter(
      (entry) =>
        entry.offset < end && entry.offset + RECORD_HEADER_SIZE + entry.storedLength > start,
    )
    .map((entry) => toHex(entry.id));
}

/**
 * Checks records (sorted by offset) against the payload as it streams by, block after block;
 * optionally collects the blobs of the records that check out.
 */
class RecordStreamChecker {
  readonly #records: readonly IndexEntry[];
  readonly #damaged: DamagedBlob[];
  #next = 0;
  #header = new Uint8Array(RECORD_HEADER_SIZE);
  #crc = 0;
  /** The current record's stored bytes, when blobs are collected. */
  #stored: Uint8Array | undefined;
  readonly #collect: boolean;
  #blobs: SinkBlob[] = [];

  constructor(records: readonly IndexEntry[], damaged: DamagedBlob[], collectBlobs = false) {
    this.#records = records;
    this.#damaged = damaged;
    this.#collect = collectBlobs;
  }

  /** The blobs of the records completed since the last call that checked out. */
  takeBlobs(): SinkBlob[] {
    const blobs = this.#blobs;
    this.#blobs = [];
    return blobs;
  }

  push(start: number, bytes: Uint8Array): void {
    const end = start + bytes.length;
    while (this.#next < this.#records.length) {
      const record = this.#records[this.#next]!;
      const recordEnd = record.offset + RECORD_HEADER_SIZE + record.storedLength;
      if (record.offset >= end) return;
      const from = Math.max(record.offset, start);
      const to = Math.min(recordEnd, end);
      const headerEnd = record.offset + RECORD_HEADER_SIZE;
      if (from < headerEnd) {
        const headerTo = Math.min(headerEnd, to);
        this.#header.set(bytes.subarray(from - start, headerTo - start), from - record.offset);
        if (headerTo === headerEnd) this.#crc = headerCrc(this.#header);
      }
      const payloadFrom = Math.max(from, headerEnd);
      if (this.#collect && from === record.offset)
        this.#stored = new Uint8Array(record.storedLength);
      if (payloadFrom < to) {
        const piece = bytes.subarray(payloadFrom - start, to - start);
        this.#crc = crc32(piece, this.#crc);
        this.#stored?.set(piece, payloadFrom - headerEnd);
      }
      if (to < recordEnd) return;
      this.#finish(record);
      this.#next++;
    }
  }

  #finish(record: IndexEntry): void {
    const header = decodeRecordHeader(this.#header);
    const reason = recordProblem(header, record, this.#crc);
    if (reason !== undefined)
      this.#damaged.push({ id: toHex(record.id), offset: record.offset, reason });
    else if (this.#stored !== undefined && typeof header !== 'string') {
      const { id, type } = record;
      this.#blobs.push({ id: id.slice(), type, rawLength: header.rawLength, bytes: this.#stored });
    }
    this.#stored = undefined;
  }
}
