import type * as NodeWorkerThreads from 'node:worker_threads';
import { NonZeroRangeFinder, type Range } from '../../vhd/index.ts';
import { toHex } from '../format/bytes.ts';
import { createHasher } from '../hashing/hasher.ts';
import { builtin } from '../hashing/runtime.ts';

/** MD5 of one non-zero page range of a volume file, as an Import/Export drive manifest lists it. */
export interface TransferRange {
  offset: number;
  length: number;
  /** Lower-case hex MD5 of the range's bytes. */
  md5: string;
}

/**
 * The MD5 side of {@link TransferHasher}: keeps pushed bytes until their range is closed, hashes
 * closed ranges. Self-contained (no outer references) so that a worker can run its source.
 */
function md5Ranges(md5Hex: (parts: Uint8Array[]) => string) {
  let pieces: Array<{ offset: number; bytes: Uint8Array }> = [];
  const ranges: Array<[number, number, string]> = [];
  return {
    ranges,
    add(offset: number, bytes: Uint8Array): void {
      pieces.push({ offset, bytes });
    },
    /** Hashes `closed`, then forgets bytes before `floor`. */
    digest(closed: Array<{ offset: number; length: number }>, floor: number): void {
      for (const range of closed) {
        const end = range.offset + range.length;
        const parts: Uint8Array[] = [];
        for (const piece of pieces) {
          const from = Math.max(range.offset, piece.offset);
          const to = Math.min(end, piece.offset + piece.bytes.length);
          if (from < to) parts.push(piece.bytes.subarray(from - piece.offset, to - piece.offset));
        }
        ranges.push([range.offset, range.length, md5Hex(parts)]);
      }
      pieces = pieces
        .filter((piece) => piece.offset + piece.bytes.length > floor)
        .map((piece) =>
          piece.offset >= floor
            ? piece
            : { offset: floor, bytes: piece.bytes.subarray(floor - piece.offset) },
        );
    },
  };
}

interface Md5Backend {
  add(offset: number, bytes: Uint8Array): void;
  digest(closed: Range[], floor: number): void;
  finish(): Promise<Array<[number, number, string]>>;
  close(): void;
}

function inlineBackend(): Md5Backend {
  const state = md5Ranges((parts) => {
    const md5 = createHasher('md5');
    for (const part of parts) md5.update(part);
    return toHex(md5.digest());
  });
  return {
    add: (offset, bytes) => state.add(offset, bytes),
    digest: (closed, floor) => state.digest(closed, floor),
    finish: async () => state.ranges,
    close: () => {},
  };
}

const workerThreads = builtin<typeof NodeWorkerThreads>('node:worker_threads');

/**
 * MD5 in a worker thread: it is the costliest hash of the write path (about 1.5 ms per MiB, more
 * than CRC-32 and SHA-256 together), so the main thread only copies the bytes into the message.
 */
function workerBackend(threads: typeof NodeWorkerThreads): Md5Backend {
  const source = `
    const { parentPort } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const state = (${md5Ranges.toString()})((parts) => {
      const md5 = createHash('md5');
      for (const part of parts) md5.update(part);
      return md5.digest('hex');
    });
    parentPort.on('message', (message) => {
      if (message.add) state.add(message.offset, message.bytes);
      else if (message.closed) state.digest(message.closed, message.floor);
      else parentPort.postMessage(state.ranges);
    });`;
  const worker = new threads.Worker(source, { eval: true });
  worker.unref();
  let failure: unknown;
  worker.on('error', (error) => {
    failure ??= error;
  });
  return {
    add: (offset, bytes) => worker.postMessage({ add: true, offset, bytes }),
    digest: (closed, floor) => worker.postMessage({ closed, floor }),
    finish: () =>
      new Promise((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        worker.ref();
        worker.once('message', (ranges: Array<[number, number, string]>) => {
          worker.unref();
          resolve(ranges);
        });
        worker.once('error', reject);
        worker.postMessage({ finish: true });
      }),
    close: () => void worker.terminate(),
  };
}

/**
 * Computes MD5 per non-zero page range (≤ 4 MiB, 512-aligned, as `NonZeroRangeFinder` closes them)
 * of a file while it is written, so sealing needs no second read. The finder runs here; the MD5s
 * run in a worker thread where the runtime has one (which receives a copy of the bytes). Without a
 * worker, pushed bytes are kept by reference until their range closes: do not modify them.
 */
export class TransferHasher {
  readonly #finder: NonZeroRangeFinder;
  readonly #md5: Md5Backend;
  #lastClosedEnd = 0;

  /** `inThread` forces hashing in this thread even where workers exist (tests compare both). */
  constructor(options: { startOffset?: number; inThread?: boolean } = {}) {
    this.#finder = new NonZeroRangeFinder({ startOffset: options.startOffset ?? 0 });
    this.#md5 =
      workerThreads === undefined || options.inThread === true
        ? inlineBackend()
        : workerBackend(workerThreads);
  }

  get position(): number {
    return this.#finder.position;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#md5.add(this.#finder.position, bytes);
    this.#digest(this.#finder.push(bytes));
  }

  /** Advances over `length` zero bytes without materialising them. */
  skipZeros(length: number): void {
    // Zeros that complete a partial sector belong to the range that sector is in: hash them.
    const toSector = Math.min(length, (512 - (this.#finder.position % 512)) % 512);
    if (toSector > 0) this.push(new Uint8Array(toSector));
    this.#digest(this.#finder.skipZeros(length - toSector));
  }

  /** Closes the last range and returns every range with its MD5, in file order. */
  async end(): Promise<TransferRange[]> {
    this.#digest(this.#finder.end());
    try {
      const ranges = await this.#md5.finish();
      return ranges.map(([offset, length, md5]) => ({ offset, length, md5 }));
    } finally {
      this.#md5.close();
    }
  }

  /** Stops the worker without results (the volume is abandoned or closed unsealed). */
  close(): void {
    this.#md5.close();
  }

  /**
   * Hashes closed ranges and lets go of bytes no open range can reach: those before the last
   * closed range's end, and those more than one maximal range (plus a sector) behind.
   */
  #digest(closed: Range[]): void {
    const last = closed.at(-1);
    if (last !== undefined) this.#lastClosedEnd = last.offset + last.length;
    const floor = Math.max(
      this.#lastClosedEnd,
      this.#finder.position - this.#finder.maxLength - 512,
    );
    this.#md5.digest(closed, floor);
  }
}
