import type * as NodeWorkerThreads from 'node:worker_threads';
import { NonZeroRangeFinder, type Range } from '../../vhd/index.ts';
import { CHECKSUM_BLOCK_SIZE } from '../format/constants.ts';
import { createHasher, type Hasher } from '../hashing/hasher.ts';
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
 * and, when `keepRanges`, MD5 per closed range (keeping pushed bytes until their range is closed).
 * Self-contained (no outer references) so that a worker can run its source.
 */
function hashState(
  newHash: (algorithm: 'sha256' | 'md5') => {
    update(bytes: Uint8Array): void;
    digest(): Uint8Array;
  },
  blockSize: number,
  keepRanges: boolean,
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
  return {
    ranges,
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
    /** Hashes `closed`, then forgets bytes before `floor`. */
    digest(closed: Array<{ offset: number; length: number }>, floor: number): void {
      for (const range of closed) {
        const end = range.offset + range.length;
        const md5 = newHash('md5');
        for (const piece of pieces) {
          const from = Math.max(range.offset, piece.offset);
          const to = Math.min(end, piece.offset + piece.bytes.length);
          if (from < to) md5.update(piece.bytes.subarray(from - piece.offset, to - piece.offset));
        }
        ranges.push([range.offset, range.length, hex(md5.digest())]);
      }
      released = Math.max(released, floor);
      pieces = pieces
        .filter((piece) => piece.offset + piece.bytes.length > floor)
        .map((piece) =>
          piece.offset >= floor
            ? piece
            : { offset: floor, bytes: piece.bytes.subarray(floor - piece.offset) },
        );
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

interface HashBackend {
  add(offset: number, bytes: Uint8Array, blocks: boolean): void;
  /** Resolves once the backend has caught up enough to take more bytes. */
  ready(): Promise<void>;
  /** File offset before which no pushed bytes are referenced any more (as far as known here). */
  released(): number;
  digest(closed: Range[], floor: number): void;
  table(): Promise<Uint8Array>;
  ranges(): Promise<Array<[number, number, string]>>;
  close(): void;
}

function inThreadBackend(): HashBackend {
  const state = hashState(
    (algorithm): Hasher => createHasher(algorithm),
    CHECKSUM_BLOCK_SIZE,
    true,
  );
  return {
    add: (offset, bytes, blocks) => state.add(offset, bytes, blocks),
    ready: async () => {},
    released: () => state.released(),
    digest: (closed, floor) => state.digest(closed, floor),
    table: async () => state.table(),
    ranges: async () => state.ranges,
    close: () => {},
  };
}

const workerThreads = builtin<typeof NodeWorkerThreads>('node:worker_threads');
/** Copies waiting for the worker, at most: beyond this, writing waits (backpressure). */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;

/** A hashing worker: messages in, replies to requests out, failures kept. */
function startWorker(threads: typeof NodeWorkerThreads, role: 'blocks' | 'ranges') {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const ranges = workerData === 'ranges';
    const state = (${hashState.toString()})((algorithm) => {
      const hash = createHash(algorithm);
      return { update: (bytes) => hash.update(bytes), digest: () => new Uint8Array(hash.digest()) };
    }, ${CHECKSUM_BLOCK_SIZE}, ranges);
    parentPort.on('message', (message) => {
      if (message.add) {
        state.add(message.offset, message.bytes, !ranges);
        if (!ranges) parentPort.postMessage({ done: message.offset + message.bytes.length });
      } else if (message.closed) {
        state.digest(message.closed, message.floor);
        parentPort.postMessage({ done: state.released() });
      } else if (message.table) parentPort.postMessage({ reply: state.table() });
      else parentPort.postMessage({ reply: state.ranges });
    });`;
  const worker = new threads.Worker(source, { eval: true, workerData: role });
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

/** Workers sharing the MD5 ranges: MD5 is the costliest hash and cannot be split within a range. */
const MD5_WORKERS = 2;

/**
 * Hashing in worker threads, one for SHA-256 per block (about 0.6 ms per MiB), two taking turns at
 * MD5 per range (1.5 ms per MiB): most of the write path's CPU. The main thread keeps CRC-32, the
 * range finder and the writes. Bytes in `SharedArrayBuffer`s reach the workers without a copy;
 * others are copied into the messages.
 */
function workerBackend(threads: typeof NodeWorkerThreads): HashBackend {
  const blocks = startWorker(threads, 'blocks');
  const md5 = Array.from({ length: MD5_WORKERS }, () => startWorker(threads, 'ranges'));
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
    if (sentEnd - released() <= MAX_PENDING_BYTES || failure() !== undefined) {
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
    add: (offset, bytes, isBlockData) => {
      sentEnd = offset + bytes.length;
      // A message carries a view's whole buffer: send shared memory as is, a part of another buffer as a copy.
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const shared =
        typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer;
      const message = { add: true, offset, bytes: whole || shared ? bytes : bytes.slice() };
      for (const worker of md5) worker.worker.postMessage(message);
      if (isBlockData) {
        blocksSentEnd = sentEnd;
        blocks.worker.postMessage(message);
      }
    },
    ready: () =>
      sentEnd - released() <= MAX_PENDING_BYTES && failure() === undefined
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            for (const { worker } of workers) worker.ref();
            waiters.push({ resolve, reject });
            settle();
          }),
    released,
    digest: (closed, floor) => {
      const shares = md5.map((): Range[] => []);
      for (const range of closed) shares[turn++ % MD5_WORKERS]!.push(range);
      for (const [i, worker] of md5.entries())
        worker.worker.postMessage({ closed: shares[i], floor });
    },
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

  /** `inThread` forces hashing in this thread even where workers exist (tests compare both). */
  constructor(options: { inThread?: boolean } = {}) {
    this.#finder = new NonZeroRangeFinder();
    this.#backend =
      workerThreads === undefined || options.inThread === true
        ? inThreadBackend()
        : workerBackend(workerThreads);
  }

  get position(): number {
    return this.#finder.position;
  }

  /** Hashes the next bytes of the file; `blocks: false` keeps them out of the block checksums. */
  push(bytes: Uint8Array, options: { blocks?: boolean } = {}): void {
    if (bytes.length === 0) return;
    this.#backend.add(this.#finder.position, bytes, options.blocks !== false);
    this.#digest(this.#finder.push(bytes));
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
    this.#digest(this.#finder.skipZeros(length - toSector));
  }

  /** The block checksum table of the block data pushed so far; push no more block data after it. */
  blockTable(): Promise<Uint8Array> {
    return this.#backend.table();
  }

  /** Closes the last range and returns every range with its MD5, in file order. */
  async end(): Promise<TransferRange[]> {
    this.#digest(this.#finder.end());
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
    this.#backend.digest(closed, floor);
  }
}
