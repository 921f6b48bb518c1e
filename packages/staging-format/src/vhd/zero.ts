import { SECTOR_SIZE } from './footer.ts';

/** Largest Put Page request, and so the largest range Azure Import/Export manifests hold. */
export const MAX_PAGE_RANGE = 4 * 1024 * 1024;

/** A byte range: `length` bytes from `offset`. */
export interface Range {
  offset: number;
  length: number;
}

// Node's Buffer.compare is a native memcmp, several times faster than a JS loop; browsers use the loop.
const nativeCompare = (globalThis as { Buffer?: { compare(a: Uint8Array, b: Uint8Array): number } })
  .Buffer?.compare;
/** Leading bytes checked one by one before the shifted self-comparison of {@link isZero}. */
const SHIFT = 16;

/** True when every byte of `bytes` is zero. */
export function isZero(bytes: Uint8Array): boolean {
  if (nativeCompare === undefined || bytes.length <= SHIFT) return isZeroPortable(bytes);
  for (let i = 0; i < SHIFT; i++) if (bytes[i] !== 0) return false;
  // With the first 16 bytes zero, bytes[i] === bytes[i + 16] everywhere means all are zero: one
  // memcmp over memory already in cache, more than twice as fast as comparing with a zero buffer.
  return nativeCompare(bytes.subarray(0, bytes.length - SHIFT), bytes.subarray(SHIFT)) === 0;
}

/** True when `a` and `b` hold the same bytes (a native comparison where available). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (nativeCompare !== undefined) return nativeCompare(a, b) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The word-at-a-time loop behind {@link isZero} where no native comparison exists. */
export function isZeroPortable(bytes: Uint8Array): boolean {
  let at = 0;
  const end = bytes.length;
  // Bytes up to the first 4-aligned address, then 32-bit words, then the tail.
  while (at < end && (bytes.byteOffset + at) % 4 !== 0) if (bytes[at++] !== 0) return false;
  const words = Math.floor((end - at) / 4);
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + at, words);
    for (let i = 0; i < words; i++) if (view[i] !== 0) return false;
  }
  for (at += words * 4; at < end; at++) if (bytes[at] !== 0) return false;
  return true;
}

/** Options of {@link NonZeroRangeFinder}. */
export interface NonZeroRangeFinderOptions {
  /** Position of the first byte pushed (default 0); ranges carry absolute offsets. */
  startOffset?: number;
  /** Longest range reported (default and maximum useful value 4 MiB); a multiple of 512. */
  maxLength?: number;
}

/**
 * Finds the 512-byte sectors that hold any non-zero byte in data that arrives in order, in pieces of
 * any size, and reports them as ranges: 512-aligned, adjacent sectors merged, each at most
 * `maxLength` long, in increasing order. This is what page-blob uploads and Import/Export manifests
 * need, computed while writing, with no buffering beyond one sector.
 *
 * Ranges are returned as soon as they are closed: by a zero sector, by reaching `maxLength`, or by
 * {@link end}. Only the last range can end on a partial sector (when the data does).
 *
 * @example
 * const finder = new NonZeroRangeFinder();
 * const ranges = [...finder.push(bytes), ...finder.end()];
 */
export class NonZeroRangeFinder {
  readonly maxLength: number;
  /** Absolute position of the next byte. */
  #position: number;
  /** Start of the open range, or -1. */
  #runStart = -1;
  /** Whether the sector being filled (not yet complete) has a non-zero byte. */
  #partialNonZero = false;
  #ended = false;

  constructor(options: NonZeroRangeFinderOptions = {}) {
    const { startOffset = 0, maxLength = MAX_PAGE_RANGE } = options;
    if (!Number.isSafeInteger(startOffset) || startOffset < 0 || startOffset % SECTOR_SIZE !== 0)
      throw new RangeError(
        `"startOffset" expected a non-negative multiple of 512, got ${startOffset}`,
      );
    if (!Number.isSafeInteger(maxLength) || maxLength <= 0 || maxLength % SECTOR_SIZE !== 0)
      throw new RangeError(`"maxLength" expected a positive multiple of 512, got ${maxLength}`);
    this.#position = startOffset;
    this.maxLength = maxLength;
  }

  /** Absolute position of the next byte to be pushed. */
  get position(): number {
    return this.#position;
  }

  /** Consumes `bytes`; returns the ranges this closed. */
  push(bytes: Uint8Array): Range[] {
    this.#checkOpen();
    const out: Range[] = [];
    let at = 0;
    while (at < bytes.length) {
      const inSector = this.#position % SECTOR_SIZE;
      const take = Math.min(SECTOR_SIZE - inSector, bytes.length - at);
      if (inSector === 0 && take === SECTOR_SIZE) {
        // Whole sectors: find the extent of zero or non-zero sectors in one go.
        const sectors = Math.floor((bytes.length - at) / SECTOR_SIZE);
        at += this.#wholeSectors(bytes.subarray(at, at + sectors * SECTOR_SIZE), out);
        continue;
      }
      if (!this.#partialNonZero && !isZeroSmall(bytes, at, at + take)) this.#partialNonZero = true;
      at += take;
      this.#position += take;
      if (this.#position % SECTOR_SIZE === 0) {
        this.#closeSector(this.#partialNonZero, out);
        this.#partialNonZero = false;
      }
    }
    return out;
  }

  /** Advances over `length` bytes known to be zero (an unallocated block) without reading them. */
  skipZeros(length: number): Range[] {
    this.#checkOpen();
    if (!Number.isSafeInteger(length) || length < 0)
      throw new RangeError(`"length" expected a non-negative safe integer, got ${length}`);
    if (length === 0) return [];
    const out: Range[] = [];
    const toBoundary = (SECTOR_SIZE - (this.#position % SECTOR_SIZE)) % SECTOR_SIZE;
    if (toBoundary > 0) {
      // Finish the partial sector: its fate depends on what was pushed before.
      const first = Math.min(toBoundary, length);
      this.#position += first;
      if (first === toBoundary) {
        this.#closeSector(this.#partialNonZero, out);
        this.#partialNonZero = false;
      }
      length -= first;
      if (length === 0) return out;
    }
    this.#flush(out);
    this.#position += length;
    return out;
  }

  /**
   * Advances over `length` bytes to be counted as data without looking at them (an allocated block
   * when only the BAT is consulted). Position and length must be whole sectors.
   */
  markData(length: number): Range[] {
    this.#checkOpen();
    if (!Number.isSafeInteger(length) || length < 0 || length % SECTOR_SIZE !== 0)
      throw new RangeError(`"length" expected a non-negative multiple of 512, got ${length}`);
    if (this.#position % SECTOR_SIZE !== 0)
      throw new RangeError('markData() needs the position on a sector boundary');
    const out: Range[] = [];
    this.#addData(length, out);
    return out;
  }

  /** Closes the open range; the finder accepts no more data. */
  end(): Range[] {
    this.#checkOpen();
    this.#ended = true;
    const out: Range[] = [];
    const partial = this.#position % SECTOR_SIZE;
    if (partial !== 0) {
      const sectorStart = this.#position - partial;
      if (!this.#partialNonZero || this.#position - this.#runStart > this.maxLength)
        this.#flush(out, sectorStart);
      if (this.#partialNonZero && this.#runStart === -1) this.#runStart = sectorStart;
    }
    this.#flush(out);
    return out;
  }

  #wholeSectors(bytes: Uint8Array, out: Range[]): number {
    if (isZero(bytes)) {
      // The common case of zero-filled space: one native comparison instead of one per sector.
      this.#flush(out);
      this.#position += bytes.length;
      return bytes.length;
    }
    for (let at = 0; at < bytes.length; ) {
      let end = at;
      while (end < bytes.length && sectorHasData(bytes, end)) end += SECTOR_SIZE;
      if (end > at) {
        this.#addData(end - at, out);
        at = end;
      } else {
        this.#position += SECTOR_SIZE;
        this.#closeSector(false, out);
        at += SECTOR_SIZE;
      }
    }
    return bytes.length;
  }

  /** Counts `length` bytes of whole data sectors into the open range, closing full ones. */
  #addData(length: number, out: Range[]): void {
    while (length > 0) {
      if (this.#runStart === -1) this.#runStart = this.#position;
      const step = Math.min(this.maxLength - (this.#position - this.#runStart), length);
      this.#position += step;
      length -= step;
      if (this.#position - this.#runStart >= this.maxLength) this.#flush(out);
    }
  }

  /** Accounts for the sector that just ended at #position. */
  #closeSector(nonZero: boolean, out: Range[]): void {
    const sectorStart = this.#position - SECTOR_SIZE;
    if (!nonZero) {
      this.#flush(out, sectorStart);
      return;
    }
    if (this.#runStart === -1) this.#runStart = sectorStart;
    if (this.#position - this.#runStart >= this.maxLength) this.#flush(out);
  }

  #flush(out: Range[], end = this.#position): void {
    if (this.#runStart === -1) return;
    out.push({ offset: this.#runStart, length: end - this.#runStart });
    this.#runStart = -1;
  }

  #checkOpen(): void {
    if (this.#ended) throw new Error('NonZeroRangeFinder used after end()');
  }
}

/** Whether the sector at `at` holds data: most data sectors show it in their first or last byte. */
function sectorHasData(bytes: Uint8Array, at: number): boolean {
  return (
    bytes[at] !== 0 ||
    bytes[at + SECTOR_SIZE - 1] !== 0 ||
    !isZero(bytes.subarray(at, at + SECTOR_SIZE))
  );
}

function isZeroSmall(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Splits `range` into pieces of at most `maxLength` bytes. */
export function splitRange(range: Range, maxLength: number = MAX_PAGE_RANGE): Range[] {
  const out: Range[] = [];
  for (let at = 0; at < range.length; at += maxLength)
    out.push({ offset: range.offset + at, length: Math.min(maxLength, range.length - at) });
  return out;
}
