import { toHex } from '../bytes.ts';
import { ChunkEngineError } from '../errors.ts';
import type { BlobSink, BlobSource, SinkBlob } from './sink.ts';

/**
 * A sink and source in memory: for tests, examples and small tools. `flush` does nothing (nothing
 * here is durable).
 */
export class MemoryBlobStore implements BlobSink, BlobSource {
  readonly #blobs = new Map<string, SinkBlob>();

  /** Number of blobs stored. */
  get size(): number {
    return this.#blobs.size;
  }

  /** Every stored blob, in the order they were put. */
  blobs(): IterableIterator<SinkBlob> {
    return this.#blobs.values();
  }

  has(id: Uint8Array): boolean {
    return this.#blobs.has(toHex(id));
  }

  async put(blob: SinkBlob, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    const key = toHex(blob.id);
    if (!this.#blobs.has(key)) this.#blobs.set(key, { ...blob, bytes: blob.bytes.slice() });
  }

  async flush(options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
  }

  async get(id: Uint8Array, options: { abortSignal?: AbortSignal } = {}): Promise<SinkBlob> {
    options.abortSignal?.throwIfAborted();
    const blob = this.#blobs.get(toHex(id));
    if (blob === undefined) {
      throw new ChunkEngineError('BLOB_NOT_FOUND', `blob ${toHex(id)} is not stored`, {
        blobId: toHex(id),
      });
    }
    return { ...blob, bytes: blob.bytes.slice() };
  }

  /** Replaces a stored blob's bytes (to simulate damage in tests). */
  replaceBytes(id: Uint8Array, bytes: Uint8Array): void {
    const blob = this.#blobs.get(toHex(id));
    if (blob === undefined) throw new RangeError(`blob ${toHex(id)} is not stored`);
    this.#blobs.set(toHex(id), { ...blob, bytes });
  }

  /** Removes a blob (to simulate loss in tests). */
  delete(id: Uint8Array): boolean {
    return this.#blobs.delete(toHex(id));
  }
}
