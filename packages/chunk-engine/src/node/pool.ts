import { availableParallelism } from 'node:os';
import { isMarkedAsUntransferable, Worker } from 'node:worker_threads';
import type { BlobCodec, BlobCodecOptions } from '../blob/codec.ts';
import type { SinkBlob } from '../blob/sink.ts';
import type { Sealer } from '../blob/writer.ts';
import type { BlobOpener, OpenOptions } from '../catalog/reader.ts';
import type { ChunkerOptions } from '../chunker/fastcdc.ts';
import { ChunkEngineError, type ChunkEngineErrorCode } from '../errors.ts';
import type { RestoredFileMeta } from './file-writing.ts';

/** @internal What a seal worker starts with (contains keys: never log it). */
export interface SealWorkerData {
  codec: BlobCodecOptions;
  chunker: ChunkerOptions;
}

/**
 * @internal Message to a seal worker: seal one blob, read, chunk and hash a small file, open a
 * blob, restore one-chunk files, write one chunk of a larger file, or check blobs.
 */
export type SealRequest =
  | { job: number; kind: 'blob'; type: SinkBlob['type']; plaintext: Uint8Array; id: Uint8Array }
  | { job: number; kind: 'file'; path: string; maxSize: number }
  | { job: number; kind: 'open'; blob: SinkBlob }
  | { job: number; kind: 'restore'; files: RestoredFile[] }
  | { job: number; kind: 'write'; blob: SinkBlob; path: string; position: number }
  | { job: number; kind: 'check'; blobs: SinkBlob[] };

/** @internal An error as it crosses from a worker: enough to rebuild its class and code. */
export interface WorkerError {
  name: string;
  message: string;
  code?: string | undefined;
  blobId?: string | undefined;
}

/** @internal Message from a seal worker. */
export interface SealResponse {
  job: number;
  blob?: SinkBlob;
  file?: ChunkedFile | 'too-large';
  plaintext?: Uint8Array;
  /** For `restore` and `check`: each item's failure, or undefined where it succeeded. */
  failures?: Array<WorkerError | undefined>;
  error?: WorkerError;
}

/** A one-chunk file to restore on a worker: its blob, where to write it, and its metadata. */
export interface RestoredFile {
  blob: SinkBlob;
  path: string;
  meta: RestoredFileMeta;
}

/** A small file read, chunked and hashed by a worker, not sealed: most chunks may be known. */
export interface ChunkedFile {
  /** The file's content (its length is the bytes read), in a `SharedArrayBuffer`. */
  data: Uint8Array;
  /** Its chunks in order: where they lie in `data`, and their blob ids. */
  chunks: Array<{ offset: number; length: number; id: Uint8Array }>;
}

/** Options of {@link SealPool}. */
export interface SealPoolOptions {
  /** Worker threads; default: available cores (at least 1). */
  workers?: number;
  /** Plaintext bytes queued or being sealed before `seal` waits (backpressure); default 64 MiB. */
  maxQueuedBytes?: number;
  /** How {@link SealPool.chunkFile} chunks files; default as `FastCdc`. */
  chunker?: ChunkerOptions;
}

interface Pending {
  resolve(response: SealResponse): void;
  reject(error: Error): void;
  bytes: number;
  worker: WorkerSlot;
}

interface WorkerSlot {
  worker: Worker;
  queuedBytes: number;
}

// From source (tests, Node type stripping) this file is src/node/pool.ts next to seal-worker.ts;
// in the build every entry and chunk sits in dist/ next to seal-worker.js.
const workerUrl = new URL(
  import.meta.url.endsWith('.ts') ? './seal-worker.ts' : './seal-worker.js',
  import.meta.url,
);

/**
 * A pool of `worker_threads` that seal blobs (hash, compress, encrypt) in parallel, with a byte
 * budget for backpressure: `seal` waits while `maxQueuedBytes` are in flight. Close it when done.
 */
export class SealPool implements Sealer, BlobOpener {
  /** Computes ids on the calling thread: the writer looks them up before anything is sent. */
  readonly #codec: BlobCodec;
  readonly #slots: WorkerSlot[];
  readonly #pending = new Map<number, Pending>();
  readonly #maxQueuedBytes: number;
  readonly #waiting: Array<() => void> = [];
  #queuedBytes = 0;
  #nextJob = 0;
  #failure: ChunkEngineError | undefined;

  constructor(codec: BlobCodec, options: SealPoolOptions = {}) {
    const count = options.workers ?? Math.max(1, availableParallelism());
    if (!Number.isInteger(count) || count < 1 || count > 256) {
      throw new RangeError(`"workers" expected an integer in [1, 256], got ${count}`);
    }
    this.#codec = codec;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024;
    const workerData: SealWorkerData = { codec: codec.options, chunker: options.chunker ?? {} };
    this.#slots = Array.from({ length: count }, () => this.#spawn(workerData));
  }

  /** The id of a blob of `plaintext`, computed on this thread (as `BlobCodec.blobId`). */
  blobId(plaintext: Uint8Array): Uint8Array {
    return this.#codec.blobId(plaintext);
  }

  /** Seals `plaintext` on the least busy worker; waits first while the byte budget is spent. */
  async seal(
    type: SinkBlob['type'],
    plaintext: Uint8Array,
    id = this.blobId(plaintext),
  ): Promise<SinkBlob> {
    // A view of a SharedArrayBuffer reaches the worker as is: no copy. Cloning a view of any
    // other buffer would copy all of that buffer: copy just the view once and move that copy. A
    // whole buffer is cloned (one copy too) and stays usable by the caller.
    const shared = plaintext.buffer instanceof SharedArrayBuffer;
    const whole =
      shared ||
      (plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength);
    const owned = whole ? plaintext : plaintext.slice();
    const response = await this.#run(
      (job) => ({ job, kind: 'blob', type, plaintext: owned, id }),
      plaintext.length,
      whole ? [] : [owned.buffer as ArrayBuffer],
    );
    return response.blob!;
  }

  /**
   * Reads the file at `path` in a worker (synchronously there: cheap for small files, and off the
   * event loop), chunks it and hashes every chunk; seal only the new ones with {@link seal}.
   * Resolves to `undefined` when the file is larger than `maxSize` (it grew since it was
   * listed): stream it instead. Rejects with the file system's error (with its `code`) when the
   * file cannot be read.
   */
  async chunkFile(path: string, maxSize: number): Promise<ChunkedFile | undefined> {
    const response = await this.#run((job) => ({ job, kind: 'file', path, maxSize }), maxSize, []);
    return response.file === 'too-large' ? undefined : response.file;
  }

  /**
   * Opens a stored blob on a worker, as `BlobCodec.open` does (same errors). The blob's bytes are
   * copied to the worker, or moved there with `options.transfer`.
   */
  async open(blob: SinkBlob, options: OpenOptions = {}): Promise<Uint8Array> {
    const request = (job: number): SealRequest => ({ job, kind: 'open', blob });
    const response = await this.#run(request, blob.bytes.length, transferList(blob, options));
    return response.plaintext!;
  }

  /**
   * Opens stored blobs on one worker, as {@link open} does, and writes each there as the whole
   * content of a new file with the given metadata: for restores of one-chunk files, whose
   * file-system calls would otherwise each make a round trip through the event loop, and which
   * go many to a message. Resolves to each file's failure, or undefined where it was restored; a
   * failed file leaves nothing at its path (the codec's errors, `CATALOG_CORRUPT` for a wrong
   * size, the file system's with their `code`). The blobs' bytes move with `options.transfer`.
   */
  async restoreFiles(
    files: readonly RestoredFile[],
    options: OpenOptions = {},
  ): Promise<Array<Error | undefined>> {
    return this.#failures(
      (job) => ({ job, kind: 'restore', files: [...files] }),
      files.map((file) => file.blob),
      options,
    );
  }

  /**
   * Opens a stored blob on a worker, as {@link open} does, and writes its plaintext at `position`
   * into the existing file at `path` (all-zero plaintext is not written: it stays a hole). For the
   * chunks of restored files too large for {@link restoreFiles}: their plaintext never comes back
   * to this thread. Rejects with the codec's errors, or the file system's with their `code`. The
   * blob's bytes move with `options.transfer`.
   */
  async writeChunk(
    blob: SinkBlob,
    path: string,
    position: number,
    options: OpenOptions = {},
  ): Promise<void> {
    const request = (job: number): SealRequest => ({ job, kind: 'write', blob, path, position });
    await this.#run(request, blob.bytes.length, transferList(blob, options));
  }

  /**
   * Opens stored blobs on one worker, as {@link open} does, and drops their plaintext: checks
   * that each is intact (authenticated, decompressed to its length, matching its id) without
   * sending anything back but failures, many blobs to a message. Resolves to each blob's failure
   * (the codec's errors), or undefined where it is intact. The bytes move with `options.transfer`.
   */
  async checkBlobs(
    blobs: readonly SinkBlob[],
    options: OpenOptions = {},
  ): Promise<Array<Error | undefined>> {
    return this.#failures((job) => ({ job, kind: 'check', blobs: [...blobs] }), blobs, options);
  }

  /** Runs a request about many blobs on one worker; resolves to each item's failure. */
  async #failures(
    request: (job: number) => SealRequest,
    blobs: readonly SinkBlob[],
    options: OpenOptions,
  ): Promise<Array<Error | undefined>> {
    const bytes = blobs.reduce((sum, blob) => sum + blob.bytes.length, 0);
    const transfer = blobs.flatMap((blob) => transferList(blob, options));
    const { failures } = await this.#run(request, bytes, transfer);
    return failures!.map((failure) => failure && workerError(failure));
  }

  async #run(
    request: (job: number) => SealRequest,
    bytes: number,
    transfer: ArrayBuffer[],
  ): Promise<SealResponse> {
    while (
      this.#queuedBytes > 0 &&
      this.#queuedBytes + bytes > this.#maxQueuedBytes &&
      !this.#failure
    ) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (this.#failure) throw this.#failure;
    const slot = this.#slots.reduce((best, s) => (s.queuedBytes < best.queuedBytes ? s : best));
    const job = this.#nextJob++;
    slot.queuedBytes += bytes;
    this.#queuedBytes += bytes;
    return new Promise<SealResponse>((resolve, reject) => {
      const pending = { resolve, reject, bytes, worker: slot };
      this.#pending.set(job, pending);
      try {
        slot.worker.postMessage(request(job), transfer);
      } catch (error) {
        // Not sent (a buffer that cannot be cloned or moved): nothing to wait for.
        this.#pending.delete(job);
        this.#release(pending);
        reject(error);
      }
    });
  }

  /** Stops the workers; pending seals reject. */
  async close(): Promise<void> {
    this.#fail(new ChunkEngineError('WORKER_FAILED', 'the seal pool was closed'));
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  #spawn(workerData: SealWorkerData): WorkerSlot {
    // The codec options carry the keys: they go to the worker in memory, never to disk or logs.
    const worker = new Worker(workerUrl, { workerData });
    const slot: WorkerSlot = { worker, queuedBytes: 0 };
    worker.on('message', (response: SealResponse) => this.#settle(response));
    worker.on('error', (error) =>
      this.#fail(
        new ChunkEngineError('WORKER_FAILED', `a seal worker failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    worker.on('exit', (code) => {
      if (!this.#failure)
        this.#fail(new ChunkEngineError('WORKER_FAILED', `a seal worker exited with code ${code}`));
    });
    return slot;
  }

  #settle(response: SealResponse): void {
    const pending = this.#pending.get(response.job);
    if (pending === undefined) return;
    this.#pending.delete(response.job);
    this.#release(pending);
    if (response.error === undefined) pending.resolve(response);
    else pending.reject(workerError(response.error));
  }

  #release(pending: Pending): void {
    pending.worker.queuedBytes -= pending.bytes;
    this.#queuedBytes -= pending.bytes;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  #fail(error: ChunkEngineError): void {
    this.#failure ??= error;
    for (const [job, pending] of this.#pending) {
      this.#pending.delete(job);
      this.#release(pending);
      pending.reject(this.#failure);
    }
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

/**
 * What a request carrying `blob` transfers: its bytes' buffer when the caller hands it over (and
 * it can move: not shared memory, not Node's pool of small buffers).
 */
function transferList(blob: SinkBlob, options: OpenOptions): ArrayBuffer[] {
  const { buffer } = blob.bytes;
  return options.transfer && buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(buffer)
    ? [buffer]
    : [];
}

/** An error from a worker, rebuilt with name and code: callers tell a vanished file from a bug. */
function workerError({ name, message, code, blobId }: WorkerError): Error {
  return name === 'ChunkEngineError'
    ? new ChunkEngineError(code as ChunkEngineErrorCode, message, { blobId })
    : Object.assign(new Error(message), { name, ...(code === undefined ? {} : { code }) });
}
