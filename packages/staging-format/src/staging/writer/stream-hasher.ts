import type * as NodeWorkerThreads from 'node:worker_threads';
import { MAX_PAGE_RANGE, NonZeroRangeFinder, type Range } from '../../vhd/index.ts';
import { CHECKSUM_BLOCK_SIZE } from '../format/constants.ts';
import { createHasher, type Hasher } from '../hashing/hasher.ts';
import {
  createLaneHasher,
  type LaneHasher,
  type LaneMessage,
  MD5_LANES,
  md5LanesModule,
} from '../hashing/md5-lanes.ts';
import { builtin } from '../hashing/runtime.ts';

/** MD5 of one non-zero page range of a volume file, as an Import/Export drive manifest lists it. */
export interface TransferRange {
  offset: number;
  length: number;
  /** Lower-case hex MD5 of the range's bytes. */
  md5: string;
}

/**
 * The hashing state of {@link StreamHasher}: SHA-256 per block of the bytes marked as block data,
 * and, when `keepRanges`, MD5 per closed range (keeping pushed bytes until their range is hashed).
 * With `lanes`, ranges wait for free MD5 lanes and are hashed several at a time. Self-contained (no
 * outer references) so that a worker can run its source.
 */
function hashState(
  newHash: (algorithm: 'sha256' | 'md5') => {
    update(bytes: Uint8Array): void;
    digest(): Uint8Array;
  },
  blockSize: number,
  keepRanges: boolean,
  lanes: ((onDigest: (range: LaneMessage, md5: Uint8Array) => void) => LaneHasher) | undefined,
) {
  let pieces: Array<{ offset: number; bytes: Uint8Array }> = [];
  const ranges: Array<[number, number, string]> = [];
  const digests: Uint8Array[] = [];
  let blockBytes = 0;
  let block: ReturnType<typeof newHash> | undefined;
  /** Bytes before this file offset are no longer referenced. */
  let released = 0;
  const hex = (bytes: Uint8Array) =>
    Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const rangeLanes = lanes?.((range, md5) => ranges.push([range.key, range.length, hex(md5)]));
  return {
    released: () => released,
    add(offset: number, bytes: Uint8Array, blocks: boolean): void {
      if (keepRanges) pieces.push({ offset, bytes });
      for (let at = 0; blocks && at < bytes.length; ) {
        const take = Math.min(blockSize - (blockBytes % blockSize), bytes.length - at);
        block ??= newHash('sha256');
        block.update(bytes.subarray(at, at + take));
        at += take;
        blockBytes += take;
        if (blockBytes % blockSize === 0) {
          digests.push(block.digest());
          block = undefined;
        }
      }
    },
    /** Hashes `closed` (or queues them for the lanes), then forgets bytes before `floor`. */
    digest(closed: Array<{ offset: number; length: number }>, floor: number): void {
      for (const range of closed) {
        const end = range.offset + range.length;
        const parts: Uint8Array[] = [];
        for (const piece of pieces) {
          const from = Math.max(range.offset, piece.offset);
          const to = Math.min(end, piece.offset + piece.bytes.length);
          if (from < to) parts.push(piece.bytes.subarray(from - piece.offset, to - piece.offset));
        }
        if (rangeLanes !== undefined) {
          rangeLanes.add({ key: range.offset, length: range.length, parts });
          continue;
        }
        const md5 = newHash('md5');
        for (const part of parts) md5.update(part);
        ranges.push([range.offset, range.length, hex(md5.digest())]);
      }
      released = Math.max(released, Math.min(floor, rangeLanes?.oldest() ?? floor));
      pieces = pieces
        .filter((piece) => piece.offset + piece.bytes.length > floor)
        .map((piece) =>
          piece.offset >= floor
            ? piece
            : { offset: floor, bytes: piece.bytes.subarray(floor - piece.offset) },
        );
    },
    /** Every closed range with its MD5, in file order. */
    ranges(): Array<[number, number, string]> {
      rangeLanes?.flush();
      return ranges.sort((a, b) => a[0] - b[0]);
    },
    /** The block checksum table: one SHA-256 per block, the last one over a partial block. */
    table(): Uint8Array {
      if (block !== undefined) digests.push(block.digest());
      block = undefined;
      const table = new Uint8Array(digests.length * 32);
      for (const [i, digest] of digests.entries()) table.set(digest, i * 32);
      return table;
    },
  };
}

/** Bytes pushed to the hashes, at their file offset; `blocks` when they count as block data. */
interface Piece {
  offset: number;
  bytes: Uint8Array;
  blocks: boolean;
}

interface HashBackend {
  /** Takes `piece` (if any), then hashes the ranges `closed` and forgets bytes before `floor`. */
  update(piece: Piece | undefined, closed: Range[], floor: number): void;
  /** Resolves once the backend has caught up enough to take more bytes. */
  ready(): Promise<void>;
  /** File offset before which no pushed bytes are referenced any more (as far as known here). */
  released(): number;
  table(): Promise<Uint8Array>;
  ranges(): Promise<Array<[number, number, string]>>;
  close(): void;
}

function inThreadBackend(module: object | undefined): HashBackend {
  const state = hashState(
    (algorithm): Hasher => createHasher(algorithm),
    CHECKSUM_BLOCK_SIZE,
    true,
    module && ((onDigest) => createLaneHasher(module, onDigest)),
  );
  return {
    update: (piece, closed, floor) => {
      if (piece !== undefined) state.add(piece.offset, piece.bytes, piece.blocks);
      state.digest(closed, floor);
    },
    ready: async () => {},
    released: () => state.released(),
    table: async () => state.table(),
    ranges: async () => state.ranges(),
    close: () => {},
  };
}

const workerThreads = builtin<typeof NodeWorkerThreads>('node:worker_threads');

/** A hashing worker: messages in, replies to requests out, failures kept. */
function startWorker(
  threads: typeof NodeWorkerThreads,
  role: 'blocks' | 'ranges',
  lanes: object | undefined,
) {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const ranges = workerData.role === 'ranges';
    const createLaneHasher = (${createLaneHasher.toString()});
    const lanes = workerData.lanes && ((onDigest) => createLaneHasher(workerData.lanes, onDigest));
    const state = (${hashState.toString()})((algorithm) => {
      const hash = createHash(algorithm);
      return { update: (bytes) => hash.update(bytes), digest: () => new Uint8Array(hash.digest()) };
    }, ${CHECKSUM_BLOCK_SIZE}, ranges, ranges ? lanes : undefined);
    parentPort.on('message', (message) => {
      if (message.table) parentPort.postMessage({ reply: state.table() });
      else if (message.ranges) parentPort.postMessage({ reply: state.ranges() });
      else if (!ranges) {
        state.add(message.offset, message.bytes, true);
        parentPort.postMessage({ done: message.offset + message.bytes.length });
      } else {
        if (message.bytes) state.add(message.offset, message.bytes, false);
        state.digest(message.closed, message.floor);
        parentPort.postMessage({ done: state.released() });
      }
    });`;
  const worker = new threads.Worker(source, { eval: true, workerData: { role, lanes } });
  worker.unref();
  const self = {
    worker,
    /** File offset up to which the worker no longer references what it was sent. */
    done: 0,
    failure: undefined as unknown,
    onProgress: () => {},
    reply: undefined as
      | { resolve: (value: never) => void; reject: (error: unknown) => void }
      | undefined,
    request<T>(message: object): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (self.failure !== undefined) return reject(self.failure);
        worker.ref();
        self.reply = { resolve: resolve as (value: never) => void, reject };
        worker.postMessage(message);
      });
    },
  };
  worker.on('message', (message: { done?: number; reply?: unknown }) => {
    if (message.done !== undefined) self.done = message.done;
    else {
      const reply = self.reply;
      self.reply = undefined;
      reply?.resolve(message.reply as never);
    }
    self.onProgress();
  });
  worker.on('error', (error) => {
    self.failure ??= error;
    self.reply?.reject(error);
    self.reply = undefined;
    self.onProgress();
  });
  return self;
}

/**
 * Hashing in worker threads: one for SHA-256 per block (about 0.6 ms per MiB), one for MD5 per
 * range in SIMD lanes (about 0.45 ms per MiB), or two taking turns at one range at a time (1.3 ms
 * per MiB) where the lanes are missing. That is most of the write path's CPU; the main thread
 * keeps CRC-32, the range finder and the writes. Bytes in `SharedArrayBuffer`s reach the workers
 * without a copy; others are copied into the messages.
 */
function workerBackend(threads: typeof NodeWorkerThreads, lanes: object | undefined): HashBackend {
  const blocks = startWorker(threads, 'blocks', undefined);
  const md5 = Array.from({ length: lanes === undefined ? 2 : 1 }, () =>
    startWorker(threads, 'ranges', lanes),
  );
  // Copies waiting for the workers, at most: beyond this, writing waits (backpressure). The lanes
  // need a whole range per lane before they start.
  const maxPendingBytes =
    lanes === undefined ? 8 * MAX_PAGE_RANGE : (MD5_LANES + 4) * MAX_PAGE_RANGE;
  const workers = [blocks, ...md5];
  let turn = 0;
  /** File ends of the bytes sent to each worker. */
  let sentEnd = 0;
  let blocksSentEnd = 0;
  const released = () =>
    Math.min(
      ...md5.map((worker) => worker.done),
      blocks.done >= blocksSentEnd ? Number.POSITIVE_INFINITY : blocks.done,
    );
  const failure = () => workers.find((worker) => worker.failure !== undefined)?.failure;
  const waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  const settle = () => {
    if (sentEnd - released() <= maxPendingBytes || failure() !== undefined) {
      for (const waiter of waiters.splice(0)) {
        if (failure() === undefined) waiter.resolve();
        else waiter.reject(failure());
      }
    }
    for (const { worker, reply } of workers)
      if (waiters.length === 0 && reply === undefined) worker.unref();
  };
  for (const worker of workers) worker.onProgress = settle;
  return {
    update: (piece, closed, floor) => {
      let bytes: Uint8Array | undefined;
      if (piece !== undefined) {
        sentEnd = piece.offset + piece.bytes.length;
        // A message carries a view's whole buffer: send shared memory as is, a part of another
        // buffer as a copy.
        const view = piece.bytes;
        const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
        const shared =
          typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer;
        bytes = whole || shared ? view : view.slice();
        if (piece.blocks) {
          blocksSentEnd = sentEnd;
          blocks.worker.postMessage({ offset: piece.offset, bytes });
        }
      }
      // One message per MD5 worker: the bytes (every worker keeps them) and its share of ranges.
      const shares = md5.map((): Range[] => []);
      for (const range of closed) shares[turn++ % md5.length]!.push(range);
      for (const [i, worker] of md5.entries())
        worker.worker.postMessage({ offset: piece?.offset, bytes, closed: shares[i], floor });
    },
    ready: () =>
      sentEnd - released() <= maxPendingBytes && failure() === undefined
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            for (const { worker } of workers) worker.ref();
            waiters.push({ resolve, reject });
            settle();
          }),
    released,
    table: () => blocks.request<Uint8Array>({ table: true }),
    ranges: async () => {
      const parts = await Promise.all(
        md5.map((worker) => worker.request<Array<[number, number, string]>>({ ranges: true })),
      );
      return parts.flat().sort((a, b) => a[0] - b[0]);
    },
    close: () => {
      for (const { worker } of workers) void worker.terminate();
    },
  };
}

/**
 * Hashes a volume file while it is written, so that sealing needs no second read: SHA-256 per
 * 2 MiB block of the bytes pushed as block data, and MD5 per non-zero page range (≤ 4 MiB,
 * 512-aligned, as `NonZeroRangeFinder` closes them) of everything. The finder runs here; the
 * hashes run in a worker thread where the runtime has one. Pushed bytes are referenced until
 * {@link released} passes them: do not modify them before.
 */
export class StreamHasher {
  readonly #finder: NonZeroRangeFinder;
  readonly #backend: HashBackend;
  #lastClosedEnd = 0;

  /**
   * `inThread` forces hashing in this thread even where workers exist, `lanes: false` one MD5 at a
   * time even where SIMD lanes exist (tests compare all ways).
   */
  constructor(options: { inThread?: boolean; lanes?: boolean } = {}) {
    const lanes = options.lanes === false ? undefined : md5LanesModule();
    this.#finder = new NonZeroRangeFinder();
    this.#backend =
      workerThreads === undefined || options.inThread === true
        ? inThreadBackend(lanes)
        : workerBackend(workerThreads, lanes);
  }

  get position(): number {
    return this.#finder.position;
  }

  /** Hashes the next bytes of the file; `blocks: false` keeps them out of the block checksums. */
  push(bytes: Uint8Array, options: { blocks?: boolean } = {}): void {
    if (bytes.length === 0) return;
    const piece = { offset: this.#finder.position, bytes, blocks: options.blocks !== false };
    this.#update(piece, this.#finder.push(bytes));
  }

  /**
   * File offset before which pushed bytes are no longer referenced: memory holding them may be
   * reused. Only grows.
   */
  get released(): number {
    return this.#backend.released();
  }

  /** Resolves when the hashes have caught up enough for more bytes to be pushed. */
  ready(): Promise<void> {
    return this.#backend.ready();
  }

  /** Advances over `length` zero bytes (not block data) without materialising them. */
  skipZeros(length: number): void {
    // Zeros that complete a partial sector belong to the range that sector is in: hash them.
    const toSector = Math.min(length, (512 - (this.#finder.position % 512)) % 512);
    if (toSector > 0) this.push(new Uint8Array(toSector), { blocks: false });
    this.#update(undefined, this.#finder.skipZeros(length - toSector));
  }

  /** The block checksum table of the block data pushed so far; push no more block data after it. */
  blockTable(): Promise<Uint8Array> {
    return this.#backend.table();
  }

  /** Closes the last range and returns every range with its MD5, in file order. */
  async end(): Promise<TransferRange[]> {
    this.#update(undefined, this.#finder.end());
    try {
      const ranges = await this.#backend.ranges();
      return ranges.map(([offset, length, md5]) => ({ offset, length, md5 }));
    } finally {
      this.#backend.close();
    }
  }

  /** Stops the worker without results (the volume is abandoned or closed unsealed). */
  close(): void {
    this.#backend.close();
  }

  /**
   * Passes `piece` on, hashes closed ranges and lets go of bytes no open range can reach: those
   * before the last closed range's end, and those more than one maximal range (plus a sector)
   * behind.
   */
  #update(piece: Piece | undefined, closed: Range[]): void {
    const last = closed.at(-1);
    if (last !== undefined) this.#lastClosedEnd = last.offset + last.length;
    const floor = Math.max(
      this.#lastClosedEnd,
      this.#finder.position - this.#finder.maxLength - 512,
    );
    this.#backend.update(piece, closed, floor);
  }
}
