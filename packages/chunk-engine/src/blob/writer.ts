import { DedupIndex } from '../dedup/index.ts';
import type { BlobSink, SinkBlob } from './sink.ts';

/** Turns plaintext into a stored blob: a {@link BlobCodec}, or a worker pool doing the same. */
export interface Sealer {
  seal(type: SinkBlob['type'], plaintext: Uint8Array): Promise<SinkBlob>;
}

/** Counters of a {@link BlobWriter}. */
export interface BlobWriterStats {
  /** Blobs handed to the sink. */
  newBlobs: number;
  /** Blobs that were already stored (index or sink). */
  duplicateBlobs: number;
  /** Plaintext bytes of new blobs. */
  newRawBytes: number;
  /** Stored bytes (header, compressed, encrypted) of new blobs. */
  storedBytes: number;
}

/**
 * Seals blobs and puts only new ones into a sink, deduplicating against a {@link DedupIndex}
 * first and the sink's `has` second. Ids enter the index before their `put` completes, so
 * concurrent writers of the same content store it once; persist the index only after `flush`.
 * Sealing runs concurrently; `put`s reach the sink one at a time, in order (a sink is an
 * append-only log, not a concurrent store). After a failed `put`, every later write fails too.
 */
export class BlobWriter {
  readonly index: DedupIndex;
  readonly stats: BlobWriterStats = {
    newBlobs: 0,
    duplicateBlobs: 0,
    newRawBytes: 0,
    storedBytes: 0,
  };
  readonly #sink: BlobSink;
  readonly #sealer: Sealer;
  /** The last `put` handed to the sink: the next one starts after it. */
  #lastPut: Promise<void> = Promise.resolve();

  constructor(sink: BlobSink, sealer: Sealer, index: DedupIndex = new DedupIndex()) {
    this.#sink = sink;
    this.#sealer = sealer;
    this.index = index;
  }

  /** Seals and stores `plaintext` unless a blob with its id exists; resolves to the blob's id. */
  async write(
    type: SinkBlob['type'],
    plaintext: Uint8Array,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<{ id: Uint8Array; stored: boolean; storedBytes: number }> {
    return this.store(await this.#sealer.seal(type, plaintext), options);
  }

  /** Stores an already sealed blob unless a blob with its id exists. */
  async store(
    blob: SinkBlob,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<{ id: Uint8Array; stored: boolean; storedBytes: number }> {
    options.abortSignal?.throwIfAborted();
    if (this.index.has(blob.id) || (await this.#sink.has(blob.id))) {
      this.index.add(blob.id);
      this.stats.duplicateBlobs++;
      return { id: blob.id, stored: false, storedBytes: 0 };
    }
    if (!this.index.add(blob.id)) {
      // Another write of the same content won the race while `has` was pending.
      this.stats.duplicateBlobs++;
      return { id: blob.id, stored: false, storedBytes: 0 };
    }
    const put = this.#lastPut.then(() => this.#sink.put(blob, options));
    this.#lastPut = put;
    await put;
    this.stats.newBlobs++;
    this.stats.newRawBytes += blob.rawLength;
    this.stats.storedBytes += blob.bytes.length;
    return { id: blob.id, stored: true, storedBytes: blob.bytes.length };
  }

  /** Makes every blob written so far durable. */
  async flush(options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    await this.#lastPut;
    await this.#sink.flush(options);
  }
}
