import { type ByteSource, type ReadOptions, readInto } from '../byte-source/byte-source.ts';
import { StagingFormatError } from '../errors.ts';
import { type DiskTypeName, type FooterFields, SECTOR_SIZE } from './footer.ts';
import { type HeaderFields, UNALLOCATED } from './header.ts';
import { type ParentReference, readLayout, type VhdLayout } from './layout.ts';
import { Diagnostics, type VhdProblem } from './problems.ts';
import { equalBytes } from './zero.ts';

/**
 * The bytes of a disk as a guest sees them. VHDs of every type, chains and raw images all offer
 * this, so converters, extents and the virtual fixed view work on any of them.
 */
export interface VirtualDisk {
  /** Disk size in bytes. */
  readonly virtualSize: number;
  /** Reads `length` bytes at `offset`; the range must lie inside {@link virtualSize}. */
  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
  /** Fills `target` with the disk's bytes from `offset` (a buffer the caller reuses). */
  readInto(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void>;
  /**
   * False when the range certainly reads as zeros without looking (no block of it is stored
   * anywhere in the chain). True means "read it to know".
   */
  mayHaveData(offset: number, length: number): boolean;
  /** Releases the sources behind the disk. */
  close(): Promise<void>;
}

/** Deepest differencing chain followed; also what stops a chain that loops. */
export const MAX_CHAIN_DEPTH = 64;

/** Options of {@link openVhd}. */
export interface OpenVhdOptions extends ReadOptions {
  /** Name (a path) used in errors. */
  name?: string;
  /** The parent of a differencing disk, already opened. Its unique id must match. */
  parent?: VhdDisk;
  /**
   * Finds the parent of a differencing disk from what the child records (unique id, name,
   * locators); resolves to `undefined` when it cannot. `openVhdFile` in the `./node` entry point
   * supplies one that looks next to the child.
   */
  resolveParent?: (
    reference: ParentReference,
    options: ReadOptions,
  ) => Promise<VhdDisk | undefined>;
  /** Open a differencing disk whose parent cannot be found; reading parent data then fails. */
  allowMissingParent?: boolean;
}

/**
 * Opens a VHD (fixed, dynamic or differencing) over `source`, validating footers, header and BAT.
 * The disk owns `source` and its parent: {@link VhdDisk.close} closes them all.
 *
 * @throws {StagingFormatError} with the code and offset of the first problem that makes the file
 *   unreadable (`VHD_BAD_CHECKSUM`, `VHD_TRUNCATED`, `VHD_BAT_OUT_OF_RANGE`, …), or
 *   `VHD_PARENT_NOT_FOUND` / `VHD_PARENT_MISMATCH` for a differencing disk without its parent.
 */
export async function openVhd(source: ByteSource, options: OpenVhdOptions = {}): Promise<VhdDisk> {
  const diagnostics = new Diagnostics(options.name);
  const layout = await readLayout(source, diagnostics, options);
  const error = diagnostics.firstError();
  if (error !== undefined) throw diagnostics.toError(error);
  let parent: VhdDisk | undefined;
  if (layout.parent !== undefined) {
    parent = options.parent ?? (await options.resolveParent?.(layout.parent, options));
    if (parent === undefined && options.allowMissingParent !== true) {
      throw new StagingFormatError(
        'VHD_PARENT_NOT_FOUND',
        `the parent "${layout.parent.name}" (${formatUuid(layout.parent.uniqueId)}) of this differencing disk was not found`,
        { ...(options.name === undefined ? {} : { path: options.name }) },
      );
    }
    if (parent !== undefined) checkParent(layout, parent, options.name);
  }
  return new VhdDisk(source, layout, diagnostics.problems, parent, options.name);
}

function checkParent(layout: VhdLayout, parent: VhdDisk, name: string | undefined): void {
  const where = name === undefined ? {} : { path: name };
  const expected = layout.parent!.uniqueId;
  if (!equalBytes(parent.uniqueId, expected)) {
    throw new StagingFormatError(
      'VHD_PARENT_MISMATCH',
      `the parent has unique id ${formatUuid(parent.uniqueId)}, the differencing disk expects ${formatUuid(expected)}`,
      { ...where, offset: (layout.headerOffset ?? 0) + 40 },
    );
  }
  if (parent.depth + 1 >= MAX_CHAIN_DEPTH) {
    throw new StagingFormatError(
      'VHD_CHAIN_TOO_DEEP',
      `the differencing chain is deeper than ${MAX_CHAIN_DEPTH} disks (or loops)`,
      where,
    );
  }
}

/** Formats 16 bytes as a UUID string (in byte order, as tools print VHD unique ids). */
export function formatUuid(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A VHD file opened for reading; see {@link openVhd}. Reads go through the chain, sector-exact. */
export class VhdDisk implements VirtualDisk {
  readonly source: ByteSource;
  readonly type: DiskTypeName;
  readonly footer: FooterFields;
  /** Dynamic-disk header (dynamic and differencing disks). */
  readonly header: HeaderFields | undefined;
  readonly virtualSize: number;
  /** Data bytes per block (2 MiB nominal for fixed disks). */
  readonly blockSize: number;
  /** What a differencing disk records about its parent. */
  readonly parentReference: ParentReference | undefined;
  /** The opened parent of a differencing disk. */
  readonly parent: VhdDisk | undefined;
  /** Defects found while opening that readers work around (footer copy mismatch, 511-byte footer…). */
  readonly warnings: readonly VhdProblem[];
  readonly name: string | undefined;
  /** Where things are in the file (footer, header, BAT offsets). */
  readonly layout: VhdLayout;
  readonly #bat: Uint32Array | undefined;
  readonly #bitmapSize: number;
  #cachedBitmap: { block: number; bits: Uint8Array } | undefined;

  constructor(
    source: ByteSource,
    layout: VhdLayout,
    warnings: readonly VhdProblem[],
    parent: VhdDisk | undefined,
    name: string | undefined,
  ) {
    this.source = source;
    this.layout = layout;
    this.type = layout.type;
    this.footer = layout.footer;
    this.header = layout.header;
    this.virtualSize = layout.virtualSize;
    this.blockSize = layout.blockSize;
    this.parentReference = layout.parent;
    this.parent = parent;
    this.warnings = warnings;
    this.name = name;
    this.#bat = layout.bat;
    this.#bitmapSize = layout.bitmapSize;
  }

  get uniqueId(): Uint8Array {
    return this.footer.uniqueId;
  }

  /** Disks below this one in the chain (0 for fixed and dynamic disks). */
  get depth(): number {
    return this.parent === undefined ? 0 : this.parent.depth + 1;
  }

  /** Number of blocks of the disk (BAT entries in use). */
  get blockCount(): number {
    return Math.ceil(this.virtualSize / this.blockSize);
  }

  /** File offset of block `index`'s sector bitmap, or `undefined` when the block is not stored here. */
  blockOffset(index: number): number | undefined {
    if (this.#bat === undefined) return index * this.blockSize;
    const sector = this.#bat[index];
    return sector === undefined || sector === UNALLOCATED ? undefined : sector * SECTOR_SIZE;
  }

  mayHaveData(offset: number, length: number): boolean {
    if (this.#bat === undefined) return true;
    const first = Math.floor(offset / this.blockSize);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / this.blockSize);
    for (let block = first; block <= last; block++) {
      if (this.#bat[block] !== UNALLOCATED) return true;
    }
    return this.#parentMayHaveData(offset, length);
  }

  #parentMayHaveData(offset: number, length: number): boolean {
    const parent = this.parent;
    if (parent === undefined || offset >= parent.virtualSize) return false;
    return parent.mayHaveData(offset, Math.min(length, parent.virtualSize - offset));
  }

  /**
   * Reads `length` bytes of the disk at `offset` as the guest sees them. Over a
   * `MemoryByteSource` the result may be a view of the source's bytes: copy it before changing it.
   *
   * @throws {RangeError} when the range is not inside the disk.
   * @throws {StagingFormatError} when the file is damaged where the range lies.
   */
  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    checkDiskRange(this.virtualSize, offset, length);
    if (this.#bat === undefined) return this.source.read(offset, length, options);
    const out = new Uint8Array(length);
    await this.readInto(out, offset, options);
    return out;
  }

  async readInto(target: Uint8Array, offset: number, options: ReadOptions = {}): Promise<void> {
    checkDiskRange(this.virtualSize, offset, target.length);
    if (this.#bat === undefined) return readInto(this.source, target, offset, options);
    const { blockSize } = this;
    // Blocks fill disjoint parts of the target: their reads are all in flight at once.
    const reads: Array<Promise<void>> = [];
    for (let done = 0; done < target.length; ) {
      const position = offset + done;
      const block = Math.floor(position / blockSize);
      const inBlock = position - block * blockSize;
      const span = Math.min(blockSize - inBlock, target.length - done);
      const part = target.subarray(done, done + span);
      const start = this.blockOffset(block);
      if (start === undefined) reads.push(this.#readParent(part, position, options));
      // Dynamic disks hold zeros in never-written sectors, so the bitmap need not be consulted.
      else if (this.type === 'dynamic')
        reads.push(readInto(this.source, part, start + this.#bitmapSize + inBlock, options));
      else reads.push(this.#readDifferencingBlock(part, block, start, inBlock, options));
      done += span;
    }
    await Promise.all(reads);
  }

  async #readDifferencingBlock(
    part: Uint8Array,
    block: number,
    start: number,
    inBlock: number,
    options: ReadOptions,
  ): Promise<void> {
    const bits = await this.#bitmap(block, start, options);
    const dataStart = start + this.#bitmapSize;
    const blockBase = block * this.blockSize;
    const firstSector = Math.floor(inBlock / SECTOR_SIZE);
    const endSector = Math.ceil((inBlock + part.length) / SECTOR_SIZE);
    let sector = firstSector;
    while (sector < endSector) {
      const inChild = bitAt(bits, sector);
      let runEnd = sector + 1;
      while (runEnd < endSector && bitAt(bits, runEnd) === inChild) runEnd++;
      // The run's bytes, clipped to the requested range.
      const from = Math.max(sector * SECTOR_SIZE, inBlock);
      const to = Math.min(runEnd * SECTOR_SIZE, inBlock + part.length);
      const slot = part.subarray(from - inBlock, to - inBlock);
      if (inChild) await readInto(this.source, slot, dataStart + from, options);
      else await this.#readParent(slot, blockBase + from, options);
      sector = runEnd;
    }
  }

  async #bitmap(block: number, start: number, options: ReadOptions): Promise<Uint8Array> {
    const cached = this.#cachedBitmap;
    if (cached?.block === block) return cached.bits;
    const bits = (await this.source.read(start, this.#bitmapSize, options)).slice();
    this.#cachedBitmap = { block, bits };
    return bits;
  }

  /** Fills `target` from the parent (zeros for dynamic disks and beyond the parent's end). */
  async #readParent(target: Uint8Array, position: number, options: ReadOptions): Promise<void> {
    // The caller's buffer may be reused: space without data must be cleared, not assumed zero.
    if (this.type !== 'differencing') return void target.fill(0);
    const parent = this.parent;
    if (parent === undefined) {
      throw new StagingFormatError(
        'VHD_PARENT_NOT_FOUND',
        'this differencing disk was opened without its parent, and the data asked for lies there',
        { offset: position, ...(this.name === undefined ? {} : { path: this.name }) },
      );
    }
    const length = Math.max(0, Math.min(target.length, parent.virtualSize - position));
    target.fill(0, length);
    if (length === 0) return;
    if (!parent.mayHaveData(position, length)) return void target.fill(0, 0, length);
    await parent.readInto(target.subarray(0, length), position, options);
  }

  /** Closes the file and the parent chain. */
  async close(): Promise<void> {
    await this.source.close();
    await this.parent?.close();
  }
}

/** Bit `index` of a sector bitmap, MSB first (sector 0 is bit 7 of byte 0), as the VHD spec has it. */
export function bitAt(bits: Uint8Array, index: number): boolean {
  return (bits[index >> 3]! & (0x80 >> (index & 7))) !== 0;
}

/** Validates a disk read request. */
export function checkDiskRange(size: number, offset: number, length: number): void {
  if (typeof offset !== 'number' || typeof length !== 'number')
    throw new TypeError('"offset" and "length" expected numbers');
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw new RangeError(
      `"offset" and "length" expected non-negative safe integers, got ${offset} and ${length}`,
    );
  if (offset + length > size)
    throw new RangeError(
      `the range ${offset}+${length} passes the end of the disk (${size} bytes)`,
    );
}
