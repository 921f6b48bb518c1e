import { NonZeroRangeFinder, type Range } from '../../vhd/index.ts';
import { toHex } from '../format/bytes.ts';
import { createHasher } from '../hashing/hasher.ts';

/** MD5 of one non-zero page range of a volume file, as an Import/Export drive manifest lists it. */
export interface TransferRange {
  offset: number;
  length: number;
  /** Lower-case hex MD5 of the range's bytes. */
  md5: string;
}

interface Piece {
  offset: number;
  bytes: Uint8Array;
  /** False while `bytes` is the caller's buffer, true once it is a private copy. */
  owned: boolean;
}

/**
 * Computes MD5 per non-zero page range (≤ 4 MiB, 512-aligned, as `NonZeroRangeFinder` closes them)
 * of a file while it is written, so sealing needs no second read. The finder reports a range only
 * once it is closed, so the bytes it may still cover (at most one range) are kept, as copies: the
 * caller may reuse its buffers after a write.
 */
export class TransferHasher {
  readonly ranges: TransferRange[] = [];
  readonly #finder: NonZeroRangeFinder;
  #pieces: Piece[] = [];

  constructor(startOffset = 0) {
    this.#finder = new NonZeroRangeFinder({ startOffset });
  }

  get position(): number {
    return this.#finder.position;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const offset = this.#finder.position;
    const closed = this.#finder.push(bytes);
    this.#pieces.push({ offset, bytes, owned: false });
    this.#hashRanges(closed);
    this.#keepOnlyOpenRange();
  }

  /** Advances over `length` zero bytes without materialising them. */
  skipZeros(length: number): void {
    this.#hashRanges(this.#finder.skipZeros(length));
    this.#keepOnlyOpenRange();
  }

  end(): TransferRange[] {
    this.#hashRanges(this.#finder.end());
    this.#pieces = [];
    return this.ranges;
  }

  #hashRanges(closed: Range[]): void {
    for (const range of closed) {
      const md5 = createHasher('md5');
      const end = range.offset + range.length;
      for (const piece of this.#pieces) {
        const from = Math.max(range.offset, piece.offset);
        const to = Math.min(end, piece.offset + piece.bytes.length);
        if (from < to) md5.update(piece.bytes.subarray(from - piece.offset, to - piece.offset));
      }
      this.ranges.push({ offset: range.offset, length: range.length, md5: toHex(md5.digest()) });
    }
  }

  /**
   * Drops bytes no open range can reach: those before the last closed range's end, and those more
   * than one maximal range (plus a sector) behind the current position. Copies the rest.
   */
  #keepOnlyOpenRange(): void {
    const last = this.ranges.at(-1);
    const floor = Math.max(
      last === undefined ? 0 : last.offset + last.length,
      this.#finder.position - this.#finder.maxLength - 512,
    );
    const kept: Piece[] = [];
    for (const piece of this.#pieces) {
      const end = piece.offset + piece.bytes.length;
      if (end <= floor) continue;
      const from = Math.max(floor, piece.offset);
      const bytes = piece.bytes.subarray(from - piece.offset);
      kept.push({ offset: from, bytes: piece.owned ? bytes : bytes.slice(), owned: true });
    }
    this.#pieces = kept;
  }
}
