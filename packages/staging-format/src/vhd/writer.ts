import type { ByteSink } from '../byte-source/byte-sink.ts';
import type { ReadOptions } from '../byte-source/byte-source.ts';
import { StagingFormatError } from '../errors.ts';
import {
  encodeFooter,
  FOOTER_SIZE,
  type FooterFields,
  NO_DATA_OFFSET,
  newFooter,
  SECTOR_SIZE,
} from './footer.ts';
import {
  batSize,
  bitmapSize,
  DEFAULT_BLOCK_SIZE,
  encodeHeader,
  encodeLocatorEntries,
  encodeParentName,
  encodeUtf16le,
  HEADER_COOKIE,
  HEADER_SIZE,
  HEADER_VERSION,
  LocatorPlatform,
  type ParentLocatorEntry,
  UNALLOCATED,
} from './header.ts';
import { MAX_BLOCK_SIZE, MAX_DYNAMIC_SIZE, MAX_TABLE_ENTRIES } from './layout.ts';
import { isZero } from './zero.ts';

const MiB = 1024 * 1024;

/** Identity and naming of the files we write. */
export interface VhdIdentityOptions {
  /** 16 random bytes when omitted. */
  uniqueId?: Uint8Array;
  /** Now when omitted. */
  timestamp?: Date;
  /** Footer creator string; `win ` by default so that qemu sizes the disk by its current size. */
  creatorApplication?: string;
}

/** What a finished writer produced. */
export interface WrittenVhd {
  virtualSize: number;
  /** Length of the file written. */
  fileSize: number;
  footer: FooterFields;
}

function checkVirtualSize(virtualSize: number, max: number): void {
  if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize % SECTOR_SIZE !== 0)
    throw new RangeError(`"virtualSize" expected a positive multiple of 512, got ${virtualSize}`);
  if (virtualSize > max)
    throw new RangeError(`"virtualSize" ${virtualSize} is above the ${max}-byte limit`);
}

function footerFor(
  virtualSize: number,
  diskType: 'fixed' | 'dynamic' | 'differencing',
  options: VhdIdentityOptions,
): FooterFields {
  return newFooter({
    virtualSize,
    diskType,
    ...(options.uniqueId === undefined ? {} : { uniqueId: options.uniqueId }),
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    ...(options.creatorApplication === undefined
      ? {}
      : { creatorApplication: options.creatorApplication }),
  });
}

/** Options of {@link FixedVhdWriter}. */
export interface FixedVhdWriterOptions extends VhdIdentityOptions {
  /**
   * Disk size, when known up front (a multiple of 512). When omitted, {@link FixedVhdWriter.finish}
   * seals the disk at the data written, rounded up to a whole MiB as Azure requires.
   */
  virtualSize?: number;
}

/**
 * Writes a fixed VHD sequentially: the disk's bytes, then (on {@link finish}) zero padding and the
 * footer. All-zero pieces are not written, so files stay sparse. Expects a fresh sink.
 */
export class FixedVhdWriter {
  readonly #sink: ByteSink;
  readonly #options: FixedVhdWriterOptions;
  #position = 0;
  #finished = false;

  constructor(sink: ByteSink, options: FixedVhdWriterOptions = {}) {
    if (options.virtualSize !== undefined)
      checkVirtualSize(options.virtualSize, Number.MAX_SAFE_INTEGER);
    this.#sink = sink;
    this.#options = options;
  }

  /** Bytes of disk written so far. */
  get position(): number {
    return this.#position;
  }

  /** Appends `bytes` to the disk. */
  async write(bytes: Uint8Array, options: ReadOptions = {}): Promise<void> {
    this.#checkOpen();
    const { virtualSize } = this.#options;
    if (virtualSize !== undefined && this.#position + bytes.length > virtualSize)
      throw new StagingFormatError(
        'VHD_WRITER_STATE',
        `writing ${bytes.length} bytes at ${this.#position} passes the declared size ${virtualSize}`,
        { offset: this.#position },
      );
    // The position moves before the write: calls that do not wait for each other still line up.
    const at = this.#position;
    this.#position += bytes.length;
    if (!isZero(bytes)) await this.#sink.write(at, bytes, options);
  }

  /** Pads the disk to its size and appends the footer. */
  async finish(options: ReadOptions = {}): Promise<WrittenVhd> {
    this.#checkOpen();
    this.#finished = true;
    const virtualSize =
      this.#options.virtualSize ?? Math.max(MiB, Math.ceil(this.#position / MiB) * MiB);
    return sealFixedVhd(this.#sink, virtualSize, { ...this.#options, ...options });
  }

  #checkOpen(): void {
    if (this.#finished)
      throw new StagingFormatError(
        'VHD_WRITER_STATE',
        'the fixed VHD writer was used after finish()',
      );
  }
}

/**
 * Turns a sink holding `virtualSize` bytes of disk (or fewer: the rest reads as zeros) into a fixed
 * VHD: sets its length to `virtualSize` and appends the footer.
 */
export async function sealFixedVhd(
  sink: ByteSink,
  virtualSize: number,
  options: VhdIdentityOptions & ReadOptions = {},
): Promise<WrittenVhd> {
  checkVirtualSize(virtualSize, Number.MAX_SAFE_INTEGER);
  const footer = footerFor(virtualSize, 'fixed', options);
  await sink.truncate(virtualSize);
  await sink.write(virtualSize, encodeFooter(footer), options);
  return { virtualSize, fileSize: virtualSize + FOOTER_SIZE, footer };
}

/** How a differencing disk names its parent. */
export interface ParentLink {
  /** The parent footer's unique id. */
  uniqueId: Uint8Array;
  /** Parent modification time (the parent's footer timestamp is a good choice). */
  timestamp: number;
  /** Path of the parent relative to the child's folder: the `W2ru` locator and the header's parent name. */
  relativePath: string;
  /** Absolute path of the parent: the `W2ku` locator. */
  absolutePath?: string;
}

/** Options of {@link DynamicVhdWriter}. */
export interface DynamicVhdWriterOptions extends VhdIdentityOptions {
  /** Disk size in bytes: a multiple of 512, at most 2040 GiB. */
  virtualSize: number;
  /** Data bytes per block: a power of two, 2 MiB by default. */
  blockSize?: number;
  /** Makes the disk a differencing disk over this parent. */
  parent?: ParentLink;
}

/**
 * Writes a dynamic or differencing VHD: blocks are appended as they are given (any order), then
 * {@link finish} writes the header, the BAT (exactly one entry per block of the disk), the parent
 * locators and both footers. Blocks never given stay unallocated. Expects a fresh sink.
 */
export class DynamicVhdWriter {
  readonly virtualSize: number;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly #sink: ByteSink;
  readonly #options: DynamicVhdWriterOptions;
  readonly #bat: Uint32Array;
  readonly #bitmapSize: number;
  readonly #fullBitmap: Uint8Array;
  readonly #locators: Array<{ entry: ParentLocatorEntry; data: Uint8Array }>;
  readonly #tableOffset = FOOTER_SIZE + HEADER_SIZE;
  #next: number;
  #finished = false;

  constructor(sink: ByteSink, options: DynamicVhdWriterOptions) {
    const { virtualSize, blockSize = DEFAULT_BLOCK_SIZE } = options;
    checkVirtualSize(virtualSize, MAX_DYNAMIC_SIZE);
    if (
      !Number.isSafeInteger(blockSize) ||
      blockSize < SECTOR_SIZE ||
      blockSize > MAX_BLOCK_SIZE ||
      (blockSize & (blockSize - 1)) !== 0
    )
      throw new RangeError(
        `"blockSize" expected a power of two from 512 to ${MAX_BLOCK_SIZE}, got ${blockSize}`,
      );
    this.blockCount = Math.ceil(virtualSize / blockSize);
    if (this.blockCount > MAX_TABLE_ENTRIES)
      throw new RangeError(
        `${this.blockCount} blocks of ${blockSize} bytes is more than ${MAX_TABLE_ENTRIES}; use larger blocks`,
      );
    this.#sink = sink;
    this.#options = options;
    this.virtualSize = virtualSize;
    this.blockSize = blockSize;
    this.#bat = new Uint32Array(this.blockCount).fill(UNALLOCATED);
    this.#bitmapSize = bitmapSize(blockSize);
    this.#fullBitmap = new Uint8Array(this.#bitmapSize).fill(0xff);
    // Locator data follows the BAT, one sector-padded slot per locator; blocks follow them.
    let next = this.#tableOffset + batSize(this.blockCount);
    this.#locators = [];
    const { parent } = options;
    if (parent !== undefined) {
      const paths: Array<[number, string | undefined]> = [
        [LocatorPlatform.W2ru, toWindowsRelative(parent.relativePath)],
        [LocatorPlatform.W2ku, parent.absolutePath],
      ];
      for (const [platformCode, path] of paths) {
        if (path === undefined) continue;
        const data = encodeUtf16le(path);
        const dataSpace = Math.ceil(data.length / SECTOR_SIZE) * SECTOR_SIZE;
        this.#locators.push({
          entry: { platformCode, dataSpace, dataLength: data.length, dataOffset: next },
          data,
        });
        next += dataSpace;
      }
    }
    this.#next = next;
  }

  /** True when block `index` has been written. */
  hasBlock(index: number): boolean {
    return this.#bat[index] !== UNALLOCATED;
  }

  /**
   * Stores block `index`: `data` is `blockSize` bytes (less for the disk's last, partial block).
   * `bitmap` marks the sectors present (differencing disks: the others come from the parent); all
   * sectors by default.
   */
  async writeBlock(
    index: number,
    data: Uint8Array,
    options: ReadOptions & { bitmap?: Uint8Array } = {},
  ): Promise<void> {
    this.#checkOpen();
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.blockCount)
      throw new RangeError(
        `"index" expected a block number below ${this.blockCount}, got ${index}`,
      );
    const expected = Math.min(this.blockSize, this.virtualSize - index * this.blockSize);
    if (data.length !== expected)
      throw new RangeError(`block ${index} expected ${expected} bytes, got ${data.length}`);
    const { bitmap = this.#fullBitmap } = options;
    if (bitmap.length !== this.#bitmapSize)
      throw new RangeError(`"bitmap" expected ${this.#bitmapSize} bytes, got ${bitmap.length}`);
    let start = this.#bat[index] === UNALLOCATED ? undefined : this.#bat[index]! * SECTOR_SIZE;
    if (start === undefined) {
      start = this.#next;
      if (start / SECTOR_SIZE >= UNALLOCATED)
        throw new StagingFormatError(
          'VHD_BAD_SIZE',
          'the file would pass the 2 TiB that 32-bit BAT entries can address',
          { offset: start },
        );
      this.#next += this.#bitmapSize + this.blockSize;
    }
    const sink = this.#sink;
    if (sink.writev !== undefined) await sink.writev(start, [bitmap, data], options);
    // Disjoint ranges: both writes can be in flight at once.
    else
      await Promise.all([
        sink.write(start, bitmap, options),
        sink.write(start + this.#bitmapSize, data, options),
      ]);
    this.#bat[index] = start / SECTOR_SIZE;
  }

  /** Writes the metadata and both footers; the file is complete afterwards. */
  async finish(options: ReadOptions = {}): Promise<WrittenVhd> {
    this.#checkOpen();
    this.#finished = true;
    const { parent } = this.#options;
    const footer: FooterFields = {
      ...footerFor(
        this.virtualSize,
        parent === undefined ? 'dynamic' : 'differencing',
        this.#options,
      ),
      dataOffset: BigInt(FOOTER_SIZE),
    };
    const header = encodeHeader({
      cookie: HEADER_COOKIE,
      dataOffset: NO_DATA_OFFSET,
      tableOffset: BigInt(this.#tableOffset),
      headerVersion: HEADER_VERSION,
      maxTableEntries: this.blockCount,
      blockSize: this.blockSize,
      checksum: 0,
      parentUniqueId: parent?.uniqueId ?? new Uint8Array(16),
      parentTimestamp: parent?.timestamp ?? 0,
      reserved: 0,
      parentUnicodeName: encodeParentName(parent === undefined ? '' : parent.relativePath),
      parentLocators: encodeLocatorEntries(this.#locators.map((l) => l.entry)),
    });
    const bat = new Uint8Array(batSize(this.blockCount)).fill(0xff);
    const view = new DataView(bat.buffer);
    for (let i = 0; i < this.blockCount; i++) view.setUint32(i * 4, this.#bat[i]!);
    const footerBytes = encodeFooter(footer);
    await this.#sink.write(FOOTER_SIZE, header, options);
    await this.#sink.write(this.#tableOffset, bat, options);
    for (const { entry, data } of this.#locators)
      await this.#sink.write(entry.dataOffset, data, options);
    // The trailing footer last: until it is there, the file is not a complete VHD.
    await this.#sink.write(0, footerBytes, options);
    await this.#sink.write(this.#next, footerBytes, options);
    return { virtualSize: this.virtualSize, fileSize: this.#next + FOOTER_SIZE, footer };
  }

  #checkOpen(): void {
    if (this.#finished)
      throw new StagingFormatError(
        'VHD_WRITER_STATE',
        'the dynamic VHD writer was used after finish()',
      );
  }
}

/** Windows tools expect relative locators as `.\dir\name.vhd`. */
function toWindowsRelative(path: string): string {
  const windows = path.replaceAll('/', '\\');
  return windows.startsWith('.\\') || windows.startsWith('..\\') ? windows : `.\\${windows}`;
}
