import { DedupIndex } from '../dedup/index.ts';
import type { BlobSink, SinkBlob } from './sink.ts';

/** Turns plaintext into a stored blob: a {@link BlobCodec}, or a worker pool doing the same. */
export interface Sealer {
  /** The id a blob of this plaintext gets (cheap next to sealing: no compression, no cipher). */
  blobId(plaintext: Uint8Array): Uint8Array;
  /** Compresses and encrypts `plaintext` into a blob named `id` (its {@link Sealer.blobId}). */
  seal(type: SinkBlob['type'], plaintext: Uint8Array, id?: Uint8Array): Promise<SinkBlob>;
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
 * Puts blobs into a sink, only new ones, and seals only those: the id is computed from the
 * plaintext first and looked up in a {@link DedupIndex}, then with the sink's `has`; a known
 * chunk is never compressed or encrypted. Ids enter the index before their blob is sealed, so
 * concurrent writers of the same content seal and store it once; persist the index only after
 * `flush`. Sealing runs concurrently; `put`s reach the sink one at a time, in order (a sink is an
 * append-only log, not a concurrent store). After a failed seal or `put`, every later write and
 * `flush` fail too (the index then names a blob that was never stored).
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

  /**
   * Stores `plaintext` unless a blob with its id exists; seals it only then. Resolves to the id.
   *
   * @param options.id - the plaintext's id when already known (e.g. hashed by a worker); it must
   *   be what the sealer's `blobId` returns for it.
   */
  async write(
    type: SinkBlob['type'],
    plaintext: Uint8Array,
    options: { abortSignal?: AbortSignal; id?: Uint8Array } = {},
  ): Promise<{ id: Uint8Array; stored: boolean; storedBytes: number }> {
    options.abortSignal?.throwIfAborted();
    const id = options.id ?? this.#sealer.blobId(plaintext);
    if (this.index.has(id) || (await this.#sink.has(id)) || !this.index.add(id)) {
      // (`add` returns false when another write of the same content won while `has` was pending.)
      this.index.add(id);
      this.stats.duplicateBlobs++;
      return { id, stored: false, storedBytes: 0 };
    }
    const sealed = this.#sealer.seal(type, plaintext, id);
    // Puts stay in call order; a failed seal fails this and every later put, as a failed put does.
    // A blob sealed before an abort is still put (an append, flushed with the rest), so the work
    // done is kept and a rerun reuses it; the abort stops every write that starts after it.
    const put = this.#lastPut.then(async () => {
      const blob = await sealed;
      await this.#sink.put(blob);
      return blob;
    });
    sealed.catch(() => {}); // reported through `put`
    this.#lastPut = put.then(() => {});
    this.#lastPut.catch(() => {}); // awaited by later writes and `flush`
    const blob = await put;
    this.stats.newBlobs++;
    this.stats.newRawBytes += blob.rawLength;
    this.stats.storedBytes += blob.bytes.length;
    return { id, stored: true, storedBytes: blob.bytes.length };
  }

  /** Makes every blob written so far durable. */
  async flush(options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    await this.#lastPut;
    await this.#sink.flush(options);
  }
}
