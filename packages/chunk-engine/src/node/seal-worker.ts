// Worker thread of SealPool: seals blobs (compression, encryption) off the main thread, opens
// them for restores (writing the files' content itself) and checks, and reads, chunks and hashes
// whole small files (synchronous reads are cheap here, off the event loop); the main thread then
// asks to seal only the chunks not yet stored.
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { BlobCodec } from '../blob/codec.ts';
import { FastCdc } from '../chunker/fastcdc.ts';
import { writeChunkSync, writeWholeFileSync } from './file-writing.ts';
import type { SealRequest, SealResponse, SealWorkerData, WorkerError } from './pool.ts';

const { codec: codecOptions, chunker } = workerData as SealWorkerData;
/** How much lower than the dispatcher a sealer runs (nice steps; 10 weighs it ~1/9). */
const sealerNiceness = 10;
const codec = new BlobCodec(codecOptions);
const cdc = new FastCdc(chunker);
const port = parentPort!;
yieldToDispatcher();

/**
 * Lowers this thread's priority below the thread that started it, where threads have their own
 * (Linux). The main thread hands out all the work: with as many sealers as cores, each sealer it
 * woke took the core from it, and the run waited on the dispatcher (an incremental run was 3–4 %
 * faster without that; a full one no slower). Elsewhere, or if the system refuses, nothing changes.
 */
function yieldToDispatcher(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(threadId, Math.min(19, getPriority(threadId) + sealerNiceness));
  } catch {
    // No per-thread priorities here: the sealers share the cores evenly with the dispatcher.
  }
}

/** Reads a whole file of at most `maxSize` bytes; undefined when it is larger. */
function readSmallFile(path: string, maxSize: number): Uint8Array | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    if (size > maxSize) return undefined;
    // One byte more than the size, to notice a file that grew since it was listed. Shared, so
    // that its new chunks come back to a worker to be sealed without a copy.
    const buffer = new Uint8Array(new SharedArrayBuffer(size + 1));
    let filled = 0;
    for (let n = 1; n > 0 && filled < buffer.length; filled += n) {
      n = readSync(fd, buffer, filled, buffer.length - filled, filled);
    }
    return filled > size ? undefined : buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

async function handle(request: SealRequest): Promise<SealResponse> {
  if (request.kind === 'blob') {
    return {
      job: request.job,
      blob: await codec.seal(request.type, request.plaintext, request.id),
    };
  }
  if (request.kind === 'open') {
    return { job: request.job, plaintext: await codec.open(request.blob) };
  }
  if (request.kind === 'restore') {
    return {
      job: request.job,
      failures: await eachFailure(request.files, async ({ blob, path, meta }) =>
        writeWholeFileSync(path, await codec.open(blob), meta),
      ),
    };
  }
  if (request.kind === 'write') {
    writeChunkSync(request.path, await codec.open(request.blob), request.position);
    return { job: request.job };
  }
  if (request.kind === 'check') {
    return {
      job: request.job,
      failures: await eachFailure(request.blobs, (blob) => codec.open(blob)),
    };
  }
  const data = readSmallFile(request.path, request.maxSize);
  if (data === undefined) return { job: request.job, file: 'too-large' };
  const chunks = [...cdc.chunks(data)].map((chunk) => ({
    offset: chunk.offset,
    length: chunk.length,
    id: codec.blobId(chunk.data),
  }));
  return { job: request.job, file: { data, chunks } };
}

/** Runs `task` on each item in turn; each one's failure, or undefined where it succeeded. */
async function eachFailure<T>(
  items: readonly T[],
  task: (item: T) => Promise<unknown>,
): Promise<Array<WorkerError | undefined>> {
  const failures: Array<WorkerError | undefined> = [];
  for (const item of items) {
    try {
      await task(item);
      failures.push(undefined);
    } catch (error) {
      failures.push(serialized(error));
    }
  }
  return failures;
}

/** What crosses back of an error: its class name, message and codes. */
function serialized(error: unknown): WorkerError {
  const { name, message, code } = error as NodeJS.ErrnoException;
  const { blobId } = error as { blobId?: string };
  return { name, message, code, blobId };
}

port.on('message', async (request: SealRequest) => {
  let response: SealResponse;
  try {
    response = await handle(request);
  } catch (error) {
    response = { job: request.job, error: serialized(error) };
  }
  // Move whole buffers; a view may share its buffer (Node's pool), so it is copied instead. A
  // file's content is shared, not moved.
  const transfer = [response.blob?.bytes, response.plaintext]
    .filter((bytes) => bytes !== undefined)
    .filter((bytes) => bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
    .map((bytes) => bytes.buffer as ArrayBuffer);
  port.postMessage(response, transfer);
});
