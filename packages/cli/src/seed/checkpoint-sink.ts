import type { BlobSink, SinkBlob } from '@offline-seed/chunk-engine';

/** Options of {@link CheckpointSink}. */
export interface CheckpointSinkOptions {
  /** Stored bytes between durability checkpoints (what a kill may cost the next run). */
  checkpointBytes: number;
  /** Stored bytes handed on but not yet written before `put` waits (write-behind depth). */
  maxQueuedBytes: number;
}

/**
 * The sink between the chunk engine and a staging writer. `put` hands the blob on and returns
 * without waiting for the write (the writer keeps call order), so reading and sealing go on while
 * the volume is written; it waits only when `maxQueuedBytes` are queued. Every `checkpointBytes`
 * it flushes, so that a run killed at any moment loses little: the next run finds the flushed
 * blobs by `has(id)`. A failed write fails the next `put` or `flush`.
 */
export class CheckpointSink implements BlobSink {
  readonly #inner: BlobSink;
  readonly #options: CheckpointSinkOptions;
  readonly #queued = new Set<Promise<void>>();
  #queuedBytes = 0;
  #sinceFlush = 0;
  #failure: { error: unknown } | undefined;

  constructor(inner: BlobSink, options: CheckpointSinkOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`"${name}" expected a positive integer, got ${value}`);
    }
    this.#inner = inner;
    this.#options = options;
  }

  has(id: Uint8Array): boolean | Promise<boolean> {
    return this.#inner.has(id);
  }

  async put(blob: SinkBlob, options?: { abortSignal?: AbortSignal }): Promise<void> {
    this.#throwIfFailed();
    while (this.#queuedBytes >= this.#options.maxQueuedBytes && this.#queued.size > 0) {
      await Promise.race(this.#queued);
      this.#throwIfFailed();
    }
    const size = blob.bytes.length;
    this.#queuedBytes += size;
    const write: Promise<void> = this.#inner.put(blob, options).then(
      () => {
        this.#queued.delete(write);
        this.#queuedBytes -= size;
      },
      (error: unknown) => {
        this.#queued.delete(write);
        this.#queuedBytes -= size;
        this.#failure ??= { error };
      },
    );
    this.#queued.add(write);
    this.#sinceFlush += size;
    if (this.#sinceFlush >= this.#options.checkpointBytes) await this.flush(options);
  }

  async flush(options?: { abortSignal?: AbortSignal }): Promise<void> {
    // Reset first: puts that overlap this flush count towards the next one.
    this.#sinceFlush = 0;
    await Promise.all(this.#queued);
    this.#throwIfFailed();
    await this.#inner.flush(options);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}
