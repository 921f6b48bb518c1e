import { pageAlignedBytes } from '../byte-source/aligned.ts';
import { type ByteSource, checkReadRange, type ReadOptions } from '../byte-source/byte-source.ts';
import { StagingFormatError } from '../errors.ts';
import { VhdDisk, type VirtualDisk } from './disk.ts';
import { encodeFooter, FOOTER_SIZE, newFooter, VHD_EPOCH_OFFSET_SECONDS } from './footer.ts';
import { DEFAULT_BLOCK_SIZE } from './header.ts';
import type { VhdIdentityOptions } from './writer.ts';
import { MAX_PAGE_RANGE, NonZeroRangeFinder, type Range } from './zero.ts';

/**
 * Any disk (a dynamic or differencing VHD and its chain, a raw image) seen as the bytes of an
 * equivalent fixed VHD: the disk's bytes followed by a fixed-disk footer. A {@link ByteSource} of
 * known length, read on demand: no temporary file. This is what a page blob of the disk holds.
 *
 * The footer keeps the unique id and timestamp of a {@link VhdDisk}, so it is the same on every read.
 */
export class VirtualFixedVhd implements ByteSource {
  readonly disk: VirtualDisk;
  /** Disk size plus the 512-byte footer. */
  readonly size: number;
  /** The synthesized footer. */
  readonly footerBytes: Uint8Array;
  /** The footer's timestamp (the disk's own for a {@link VhdDisk}). */
  readonly footerTime: Date;
  #closed = false;

  constructor(disk: VirtualDisk, options: VhdIdentityOptions = {}) {
    this.disk = disk;
    this.size = disk.virtualSize + FOOTER_SIZE;
    const own = disk instanceof VhdDisk ? disk.footer : undefined;
    const uniqueId = options.uniqueId ?? own?.uniqueId;
    const timestamp =
      options.timestamp ??
      (own === undefined
        ? new Date()
        : new Date((own.timestamp + VHD_EPOCH_OFFSET_SECONDS) * 1000));
    this.footerTime = timestamp;
    this.footerBytes = encodeFooter(
      newFooter({
        virtualSize: disk.virtualSize,
        diskType: 'fixed',
        ...(uniqueId === undefined ? {} : { uniqueId }),
        timestamp,
        ...(options.creatorApplication === undefined
          ? {}
          : { creatorApplication: options.creatorApplication }),
      }),
    );
  }

  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    options.abortSignal?.throwIfAborted();
    if (this.#closed)
      throw new StagingFormatError(
        'SOURCE_CLOSED',
        'the virtual fixed VHD was read after close()',
        { offset },
      );
    checkReadRange(this.size, offset, length);
    const diskSize = this.disk.virtualSize;
    if (offset + length <= diskSize) return this.disk.read(offset, length, options);
    const out = new Uint8Array(length);
    const inDisk = Math.max(0, diskSize - offset);
    if (inDisk > 0) out.set(await this.disk.read(offset, inDisk, options));
    const footerFrom = Math.max(0, offset - diskSize);
    out.set(this.footerBytes.subarray(footerFrom, footerFrom + length - inDisk), inDisk);
    return out;
  }

  /** The whole file in order, in pieces of `chunkSize` bytes (2 MiB by default). */
  async *stream(options: ReadOptions & { chunkSize?: number } = {}): AsyncGenerator<Uint8Array> {
    const { chunkSize = DEFAULT_BLOCK_SIZE } = options;
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0)
      throw new RangeError(`"chunkSize" expected a positive integer, got ${chunkSize}`);
    for (let offset = 0; offset < this.size; offset += chunkSize) {
      const length = Math.min(chunkSize, this.size - offset);
      const data = this.disk.mayHaveData(
        offset,
        Math.min(length, Math.max(0, this.disk.virtualSize - offset)),
      )
        ? await this.read(offset, length, options)
        : await this.#zerosOrFooter(offset, length, options);
      yield data;
    }
  }

  #zerosOrFooter(offset: number, length: number, options: ReadOptions): Promise<Uint8Array> {
    // Past the disk, read() supplies the footer; inside unallocated space, zeros need no read.
    return offset + length > this.disk.virtualSize
      ? this.read(offset, length, options)
      : Promise.resolve(new Uint8Array(length));
  }

  /** Closes the disk. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.disk.close();
  }
}

/** Options of {@link listExtents}. */
export interface ListExtentsOptions extends ReadOptions {
  /** Longest range (default 4 MiB, the Put Page and Import/Export manifest limit). */
  maxLength?: number;
  /**
   * Read allocated space and drop zero sectors from the ranges (default). With `false`, every
   * allocated block counts as data: faster, from the BAT alone, but zeros inside blocks are kept.
   */
  scan?: boolean;
  /** Include the 512-byte fixed-disk footer at the end (default true: a page blob needs it). */
  includeFooter?: boolean;
}

/**
 * The non-zero ranges of `disk` seen as a fixed VHD ({@link VirtualFixedVhd}): 512-aligned, each at
 * most `maxLength` bytes, adjacent data merged, in increasing order, the footer last. Space that no
 * block of the chain holds is skipped without reading. These are the page ranges to upload, or to
 * list in an Import/Export drive manifest.
 */
export async function* listExtents(
  disk: VirtualDisk,
  options: ListExtentsOptions = {},
): AsyncGenerator<Range> {
  const { maxLength = MAX_PAGE_RANGE, scan = true, includeFooter = true } = options;
  const finder = new NonZeroRangeFinder({ maxLength });
  const step =
    disk instanceof VhdDisk && disk.type !== 'fixed' ? disk.blockSize : DEFAULT_BLOCK_SIZE;
  const buffer = pageAlignedBytes(step);
  for (let offset = 0; offset < disk.virtualSize; offset += step) {
    options.abortSignal?.throwIfAborted();
    const length = Math.min(step, disk.virtualSize - offset);
    if (!disk.mayHaveData(offset, length)) yield* finder.skipZeros(length);
    else if (!scan) yield* finder.markData(length);
    else {
      const data = buffer.subarray(0, length);
      await disk.readInto(data, offset, options);
      yield* finder.push(data);
    }
  }
  if (includeFooter) yield* finder.markData(FOOTER_SIZE);
  yield* finder.end();
}
