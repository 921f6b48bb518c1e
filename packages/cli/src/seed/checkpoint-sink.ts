import type { BlobSink, SinkBlob } from '@offline-seed/chunk-engine';

/**
 * A sink that makes what was put durable every `everyBytes` stored bytes, so that a run killed
 * at any moment loses at most that much work: the next run finds the flushed blobs by `has(id)`.
 */
export class CheckpointSink implements BlobSink {
  readonly #inner: BlobSink;
  readonly #everyBytes: number;
  #sinceFlush = 0;

  constructor(inner: BlobSink, everyBytes: number) {
    if (!Number.isSafeInteger(everyBytes) || everyBytes < 1)
      throw new RangeError(`"checkpointBytes" expected a positive integer, got ${everyBytes}`);
    this.#inner = inner;
    this.#everyBytes = everyBytes;
  }

  has(id: Uint8Array): boolean | Promise<boolean> {
    return this.#inner.has(id);
  }

  async put(blob: SinkBlob, options?: { abortSignal?: AbortSignal }): Promise<void> {
    await this.#inner.put(blob, options);
    this.#sinceFlush += blob.bytes.length;
    if (this.#sinceFlush >= this.#everyBytes) await this.flush(options);
  }

  flush(options?: { abortSignal?: AbortSignal }): Promise<void> {
    // Reset first: puts that overlap this flush count towards the next one.
    this.#sinceFlush = 0;
    return this.#inner.flush(options);
  }
}
