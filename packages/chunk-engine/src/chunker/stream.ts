import { type Chunk, type ChunkerOptions, FastCdc } from './fastcdc.ts';

/**
 * Incremental FastCDC over pushed pieces: gives exactly the cuts of {@link FastCdc.cuts} over the
 * concatenation, whatever the piece sizes.
 *
 * Zero-copy where it can be: a chunk's `data` is a view either into a pushed piece (do not reuse
 * a piece's buffer while its chunks are in use) or into an internal buffer the chunker never
 * writes to again. Bytes that straddle pieces are copied once; {@link reserve} and
 * {@link commit} let a reader fill the internal buffer directly and skip even that copy.
 *
 * @example
 * ```ts
 * const chunker = new StreamingChunker({ avgSize: 64 * 1024, minSize: 16 * 1024, maxSize: 256 * 1024 });
 * for (const piece of pieces) for (const chunk of chunker.push(piece)) use(chunk);
 * for (const chunk of chunker.push(new Uint8Array(0), true)) use(chunk);
 * ```
 */
export class StreamingChunker {
  readonly cdc: FastCdc;
  #buffer: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** Stream offset of `#buffer[#start]`. */
  #offset = 0;
  #finished = false;
  /** Bytes handed out by `reserve` and not yet committed. */
  #reserved = 0;

  readonly #shared: boolean;

  /**
   * @param buffers.shared - keep pending bytes in `SharedArrayBuffer`s: chunks cut from them can be
   *   posted to worker threads without a copy (the chunker never writes to an emitted chunk).
   */
  constructor(options: ChunkerOptions | FastCdc = {}, buffers: { shared?: boolean } = {}) {
    this.cdc = options instanceof FastCdc ? options : new FastCdc(options);
    this.#shared = buffers.shared ?? false;
  }

  /** Bytes pushed but not yet emitted as chunks. */
  get pendingBytes(): number {
    return this.#end - this.#start;
  }

  /**
   * Adds `data` and returns the chunks that are now certain. Pass `final = true` with the last
   * piece (it may be empty) to flush the tail.
   */
  push(data: Uint8Array, final = false): Chunk[] {
    this.#checkOpen();
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`"data" expected Uint8Array, got ${typeof data}`);
    }
    this.#reserved = 0;
    const chunks: Chunk[] = [];
    let input = data;
    // Cut straight from the input while nothing is pending: saves a copy of most of the stream.
    const direct = this.#start === this.#end;
    if (direct) input = input.subarray(this.#cutAll(input, 0, { final, early: true }, chunks));
    if (input.length > 0) {
      this.#makeRoom(input.length);
      this.#buffer.set(input, this.#end);
      this.#end += input.length;
    }
    // A tail left by the direct cut has been searched for an early cut already.
    return this.#drain(final, direct ? 0 : data.length, chunks);
  }

  /**
   * A writable view of `length` bytes right after the pending data, to read into without a copy
   * (`handle.read(chunker.reserve(n))`); then {@link commit} how many bytes were filled. The view
   * is only valid until the next `commit`, `push` or `reserve`.
   */
  reserve(length: number): Uint8Array {
    this.#checkOpen();
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`"length" expected a non-negative integer, got ${length}`);
    }
    this.#makeRoom(length);
    this.#reserved = length;
    return this.#buffer.subarray(this.#end, this.#end + length);
  }

  /** Takes `length` bytes written into the last {@link reserve}d view; returns the chunks now certain. */
  commit(length: number, final = false): Chunk[] {
    this.#checkOpen();
    if (!Number.isSafeInteger(length) || length < 0 || length > this.#reserved) {
      throw new RangeError(`"length" expected an integer in [0, ${this.#reserved}], got ${length}`);
    }
    this.#reserved = 0;
    this.#end += length;
    return this.#drain(final, length, []);
  }

  #checkOpen(): void {
    if (this.#finished) throw new Error('the chunker already had its final piece');
  }

  /** Emits what is certain after `added` more bytes; with `final`, everything. */
  #drain(final: boolean, added: number, chunks: Chunk[]): Chunk[] {
    // Searching a tail that holds no cut yet is wasted when it is searched again with the next
    // piece: search early only when most of it is new (large reads: about one chunk searched
    // twice per read; small pieces never, as cuts within `minSize` cost nothing to look for).
    const early = added * 2 >= this.#end - this.#start;
    const source = this.#buffer.subarray(0, this.#end);
    this.#start = this.#cutAll(source, this.#start, { final, early }, chunks);
    if (final) {
      this.#finished = true;
      this.#buffer = new Uint8Array(0);
    }
    return chunks;
  }

  /**
   * Emits the chunks of `source` from `start` on that are certain, and returns where the first
   * uncertain one starts (`source.length` when `final`). A cut is certain once `maxSize` bytes
   * follow its start, or, with `early`, once it is found before the end: a position's rolling
   * hash depends only on the bytes up to it. Cutting early keeps the pending tail under one
   * chunk rather than under `maxSize`, so much less is copied when the buffer moves.
   */
  #cutAll(
    source: Uint8Array,
    start: number,
    how: { final: boolean; early: boolean },
    into: Chunk[],
  ): number {
    const { maxSize } = this.cdc.params;
    let position = start;
    while (position < source.length) {
      const available = source.length - position;
      if (!how.final && !how.early && available < maxSize) break;
      const length = this.cdc.cut(source, position, source.length);
      if (!how.final && available < maxSize && length === available) break;
      into.push({
        offset: this.#offset,
        length,
        hash: this.cdc.hash(source, position, length, available),
        data: source.subarray(position, position + length),
      });
      this.#offset += length;
      position += length;
    }
    return position;
  }

  /** Makes room for `length` more bytes after the pending ones. */
  #makeRoom(length: number): void {
    if (this.#end + length <= this.#buffer.length) return;
    // A fresh buffer rather than compacting in place: emitted chunks may still view the old one.
    // Streaming in large pieces: room for one more, so the pending tail (under a chunk) is copied
    // every other piece; more room costs more memory than the copies it saves. Small pieces (a
    // small file read whole) get just what they need: zeroing is not free.
    const pending = this.#buffer.subarray(this.#start, this.#end);
    const room = length < this.cdc.params.maxSize ? length : 2 * length;
    const size = pending.length + room;
    const fresh: Uint8Array = this.#shared
      ? new Uint8Array(new SharedArrayBuffer(size))
      : new Uint8Array(size);
    fresh.set(pending);
    this.#buffer = fresh;
    this.#start = 0;
    this.#end = pending.length;
  }
}

/** Options of {@link chunkStream}. */
export interface ChunkStreamOptions extends ChunkerOptions {
  abortSignal?: AbortSignal;
}

/**
 * Chunks an async (or sync) iterable of byte pieces, such as a Node readable stream or a web
 * `ReadableStream`; yields the same chunks as chunking the whole stream at once.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ChunkStreamOptions = {},
): AsyncGenerator<Chunk> {
  const chunker = new StreamingChunker(options);
  for await (const piece of source) {
    options.abortSignal?.throwIfAborted();
    yield* chunker.push(piece);
  }
  options.abortSignal?.throwIfAborted();
  yield* chunker.push(new Uint8Array(0), true);
}
