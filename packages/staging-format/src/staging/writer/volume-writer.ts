import { StagingFormatError } from '../../errors.ts';
import { encodeFooter, FOOTER_SIZE, newFooter } from '../../vhd/index.ts';
import { alignUp, viewOf, writeU64 } from '../format/bytes.ts';
import {
  BLOB_ID_SIZE,
  CHECKSUM_BLOCK_SIZE,
  INDEX_ENTRY_SIZE,
  MiB,
  RECORD_HEADER_SIZE,
  RecordType,
  TRAILER_SIZE,
} from '../format/constants.ts';
import type { SnapshotRecord } from '../format/descriptor.ts';
import { encodeRecordHeader } from '../format/record.ts';
import { encodeCatalog, encodeIndex, type IndexEntry } from '../format/sections.ts';
import { encodeSuperblock } from '../format/superblock.ts';
import { encodeTrailer } from '../format/trailer.ts';
import { sha256 } from '../hashing/hasher.ts';
import { blobFromRecord } from '../reader/record.ts';
import type { SinkBlob } from '../sink.ts';
import type { VolumeFile } from '../store/store.ts';
import { CopyArena } from './copy-arena.ts';
import { StreamHasher, type TransferRange } from './stream-hasher.ts';

/** A batch of small records is written once this many bytes are pending. */
const WRITE_BATCH = 4 * MiB;
/** A sync mark: a record header plus the mark's own offset. */
export const SYNC_MARK_SIZE = RECORD_HEADER_SIZE + 8;
const NO_ID = new Uint8Array(BLOB_ID_SIZE);

/** What sealing produced. */
export interface SealedVolume {
  size: number;
  recordCount: number;
  sealedAtMs: number;
  /** MD5 per non-zero page range of the whole file, footer included. */
  transferRanges: TransferRange[];
}

export interface VolumeIdentity {
  stagingId: Uint8Array;
  volumeNumber: number;
}

/**
 * File size of a volume sealed with `recordsEnd` bytes of superblock and records, `entryCount`
 * index entries and a catalog of `catalogLength` bytes.
 */
export function sealedSize(recordsEnd: number, entryCount: number, catalogLength: number): number {
  const tableOffset = recordsEnd + entryCount * INDEX_ENTRY_SIZE + catalogLength;
  const tableLength = Math.ceil(tableOffset / CHECKSUM_BLOCK_SIZE) * 32;
  return alignUp(tableOffset + tableLength + TRAILER_SIZE, MiB) + FOOTER_SIZE;
}

/**
 * Appends records to one volume and seals it. Every byte is hashed as it is written (SHA-256 per
 * 2 MiB block and MD5 per transfer range, in a worker thread where there is one), so sealing only
 * appends the closing sections. Stored bytes are copied into reusable shared memory that the write
 * and the hashes share, so callers may reuse their buffers at once; records are written in batches
 * of about 4 MiB, each while the next is gathered. Not safe for concurrent calls: the staging
 * writer serialises them.
 */
export class VolumeWriter {
  readonly identity: VolumeIdentity;
  readonly path: string;
  readonly #file: VolumeFile;
  readonly #entries: IndexEntry[];
  readonly #hashes = new StreamHasher();
  readonly #arena = new CopyArena();
  #end: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The batch being written while the caller goes on appending: at most one at a time. */
  #inFlight: Promise<void> | undefined;
  /** The failure of a batch nobody awaited: the next call reports it as it was. */
  #unreported: unknown;
  /** File offset just past the bytes the file has finished writing. */
  #writtenEnd: number;
  /** True when every record appended is covered by a durable sync mark. */
  #marked = true;
  #sealed = false;
  #failure: unknown;

  private constructor(
    file: VolumeFile,
    path: string,
    identity: VolumeIdentity,
    entries: IndexEntry[],
  ) {
    this.#file = file;
    this.path = path;
    this.identity = identity;
    this.#entries = entries;
    this.#end = file.size;
    this.#writtenEnd = file.size;
  }

  /** Starts an empty volume in a new, empty file: writes and syncs the superblock. */
  static async create(
    file: VolumeFile,
    path: string,
    identity: VolumeIdentity,
    createdAtMs: number,
  ) {
    const writer = new VolumeWriter(file, path, identity, []);
    writer.#queue(encodeSuperblock({ ...identity, createdAtMs }));
    await writer.#sync();
    return writer;
  }

  /**
   * Continues a volume after a crash. `scan` finds its intact records (cutting off a torn tail),
   * passing their bytes, superblock first, to `onIntact` so that they are hashed in the same read.
   */
  static async resume(
    file: VolumeFile,
    path: string,
    identity: VolumeIdentity,
    scan: (onIntact: (bytes: Uint8Array) => Promise<void>) => Promise<IndexEntry[]>,
  ) {
    const writer = new VolumeWriter(file, path, identity, []);
    try {
      const entries = await scan(async (bytes) => {
        writer.#hashes.push(bytes);
        await writer.#hashes.ready();
      });
      writer.#entries.push(...entries);
    } catch (error) {
      writer.#hashes.close();
      throw error;
    }
    writer.#end = file.size;
    writer.#writtenEnd = file.size;
    return writer;
  }

  /** Bytes of superblock and records so far, batched ones included. */
  get recordsEnd(): number {
    return this.#end;
  }

  get recordCount(): number {
    return this.#entries.length;
  }

  /** The blob records appended so far, in file order. */
  entries(): readonly IndexEntry[] {
    return this.#entries;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * File size this volume would have if sealed after appending records of `extraRecordBytes`
   * (headers included) for `extraEntries` blobs, with a catalog of `catalogLength` bytes. One sync
   * mark is reserved, so a flush always fits.
   */
  projectedSize(extraRecordBytes: number, extraEntries: number, catalogLength: number): number {
    return sealedSize(
      this.#end + extraRecordBytes + SYNC_MARK_SIZE,
      this.#entries.length + extraEntries,
      catalogLength,
    );
  }

  /** Appends `blob` as a record; returns its index entry. */
  async append(blob: SinkBlob): Promise<IndexEntry> {
    this.#checkWritable();
    const header = encodeRecordHeader(RecordType[blob.type], blob.id, blob.rawLength, blob.bytes);
    const entry: IndexEntry = {
      id: blob.id.slice(),
      offset: this.#end,
      storedLength: blob.bytes.length,
      type: blob.type,
    };
    // A slab is free once neither the hashes nor a write in flight reference it.
    this.#arena.recycle(Math.min(this.#hashes.released, this.#writtenEnd));
    // Header and payload copied side by side: consecutive records then form one run of memory,
    // written and hashed as one piece (a message per piece to each hashing worker).
    this.#queue(this.#arena.copy(header, entry.offset));
    this.#queue(this.#arena.copy(blob.bytes, entry.offset + RECORD_HEADER_SIZE));
    this.#entries.push(entry);
    this.#marked = false;
    if (this.#pendingBytes >= WRITE_BATCH) await this.#startBatch();
    return entry;
  }

  /** Writes what is batched, a sync mark when records were added since the last one, and syncs. */
  async flush(): Promise<void> {
    this.#checkWritable();
    if (!this.#marked) {
      const mark = new Uint8Array(8);
      writeU64(viewOf(mark), 0, this.#end);
      this.#queue(encodeRecordHeader(RecordType.syncMark, NO_ID, 0, mark));
      this.#queue(mark);
    }
    await this.#sync();
    this.#marked = true;
  }

  /**
   * Seals the volume: index, catalog of `snapshots`, block checksum table, zero padding to a whole
   * MiB minus the trailer, trailer, VHD footer; then syncs. The file is a fixed VHD afterwards.
   */
  async seal(snapshots: readonly SnapshotRecord[], sealedAtMs: number): Promise<SealedVolume> {
    this.#checkWritable();
    await this.#writePending();
    const index = encodeIndex(this.#entries);
    const catalog = encodeCatalog(snapshots);
    const indexOffset = this.#end;
    this.#queue(index);
    this.#queue(catalog);
    await this.#writePending();
    const tableOffset = this.#end;
    const table = await this.#guard(() => this.#hashes.blockTable());
    const fileSize = sealedSize(indexOffset, this.#entries.length, catalog.length);
    const virtualSize = fileSize - FOOTER_SIZE;
    const trailer = encodeTrailer({
      ...this.identity,
      recordCount: this.#entries.length,
      index: { offset: indexOffset, length: index.length },
      catalog: { offset: indexOffset + index.length, length: catalog.length },
      table: { offset: tableOffset, length: table.length },
      tableSha256: await sha256(table),
      sealedAtMs,
    });
    const footer = encodeFooter(
      newFooter({ virtualSize, diskType: 'fixed', timestamp: new Date(sealedAtMs) }),
    );
    // The table is not part of the blocks it checks; the padding is zeros the finder skips.
    await this.#appendNow([table], { blocks: false });
    const padding = virtualSize - TRAILER_SIZE - this.#end;
    for (let left = padding; left > 0; left -= MiB) {
      await this.#appendNow([new Uint8Array(Math.min(left, MiB))], {
        blocks: false,
        transfer: false,
      });
    }
    this.#hashes.skipZeros(padding);
    await this.#appendNow([trailer, footer], { blocks: false });
    await this.#sync();
    this.#sealed = true;
    return {
      size: this.#end,
      recordCount: this.#entries.length,
      sealedAtMs,
      transferRanges: await this.#guard(() => this.#hashes.end()),
    };
  }

  /** True once a write failed: the volume takes no more data until the location is reopened. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Reads a blob back from this volume (batched records are written first). */
  async readRecord(entry: IndexEntry): Promise<SinkBlob> {
    this.#checkWritable();
    await this.#writePending();
    const bytes = await this.#guard(() =>
      this.#file.read(entry.offset, RECORD_HEADER_SIZE + entry.storedLength),
    );
    return blobFromRecord(bytes, entry, this.path);
  }

  async close(): Promise<void> {
    // A failed write is already recorded in #failure; closing only waits for it to end.
    await this.#inFlight?.catch(() => {});
    this.#hashes.close();
    await this.#file.close();
  }

  #queue(bytes: Uint8Array): void {
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    this.#end += bytes.length;
  }

  /**
   * Starts writing the batched records once the previous batch is written, without waiting for
   * this one: the caller prepares the next batch meanwhile. A failure surfaces at the next call.
   */
  async #startBatch(): Promise<void> {
    await this.#drain();
    if (this.#pending.length === 0) return;
    const chunks = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    const writing = this.#write(chunks);
    this.#inFlight = writing;
    writing.catch((error: unknown) => {
      if (this.#inFlight === writing) this.#unreported = error;
    });
  }

  /** Waits for the batch in flight, if any, and throws its failure. */
  async #drain(): Promise<void> {
    const writing = this.#inFlight;
    this.#inFlight = undefined;
    this.#unreported = undefined;
    await writing;
  }

  /** Writes everything batched and waits until it is written. */
  async #writePending(): Promise<void> {
    await this.#startBatch();
    await this.#drain();
  }

  /** Appends sealing sections that bypass the batch (and, as told, the hashers). */
  async #appendNow(chunks: Uint8Array[], feed: { blocks?: boolean; transfer?: boolean }) {
    await this.#writePending();
    for (const chunk of chunks) this.#end += chunk.length;
    await this.#write(chunks, feed);
  }

  /** Writes `chunks`, hashing them while the write is in flight. */
  async #write(pieces: Uint8Array[], feed: { blocks?: boolean; transfer?: boolean } = {}) {
    const chunks = joinAdjacent(pieces);
    // Whatever is handed to the file ends where the queued bytes still batched begin.
    const end = this.#end - this.#pendingBytes;
    const writing = this.#guard(() => this.#file.append(chunks));
    for (const chunk of chunks) {
      if (feed.transfer !== false) this.#hashes.push(chunk, { blocks: feed.blocks !== false });
    }
    await writing;
    this.#writtenEnd = end;
    await this.#guard(() => this.#hashes.ready());
  }

  /** Writes what is batched and makes everything durable. */
  async #sync(): Promise<void> {
    await this.#writePending();
    await this.#guard(() => this.#file.sync());
  }

  /** Runs a file or hashing operation; a failure leaves the volume unusable until recovery. */
  async #guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.#failure ??= error;
      throw error;
    }
  }

  #checkWritable(): void {
    if (this.#unreported !== undefined) {
      const failure = this.#unreported;
      this.#unreported = undefined;
      this.#inFlight = undefined;
      throw failure;
    }
    if (this.#failure !== undefined) {
      throw new StagingFormatError(
        'STAGING_CLOSED',
        `${this.path}: an earlier write failed; reopen the location to recover what was flushed`,
        { path: this.path, cause: this.#failure },
      );
    }
    if (this.#sealed) {
      throw new StagingFormatError('VOLUME_WRITER_STATE', `${this.path} is sealed`, {
        path: this.path,
      });
    }
  }
}

/** `pieces` with views that continue one another in the same buffer merged into one view. */
function joinAdjacent(pieces: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const piece of pieces) {
    const last = out.at(-1);
    if (last?.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
      out[out.length - 1] = new Uint8Array(
        last.buffer,
        last.byteOffset,
        last.length + piece.length,
      );
    } else {
      out.push(piece);
    }
  }
  return out;
}
