import { StagingFormatError } from '../errors.ts';
import { type ByteSink, checkWriteRange } from './byte-sink.ts';
import type { ReadOptions } from './byte-source.ts';
import { MemoryByteSource } from './memory.ts';

/** A {@link ByteSink} into memory (tests, browsers, small images); {@link bytes} gives the result. */
export class MemoryByteSink implements ByteSink {
  #buffer = new Uint8Array(0);
  #length = 0;
  #closed = false;

  /** The bytes written so far (a view; copy it to keep it across further writes). */
  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  /** A {@link MemoryByteSource} over what was written. */
  toSource(): MemoryByteSource {
    return new MemoryByteSource(this.bytes);
  }

  async write(offset: number, bytes: Uint8Array, options: ReadOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    this.#checkOpen();
    checkWriteRange(offset, bytes);
    this.#ensure(offset + bytes.length);
    this.#buffer.set(bytes, offset);
    this.#length = Math.max(this.#length, offset + bytes.length);
  }

  async truncate(size: number): Promise<void> {
    this.#checkOpen();
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`"size" expected a non-negative safe integer, got ${size}`);
    this.#ensure(size);
    this.#buffer.fill(0, size, this.#length);
    this.#length = size;
  }

  async sync(): Promise<void> {
    this.#checkOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #ensure(size: number): void {
    if (size <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(size, this.#buffer.length * 2));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }

  #checkOpen(): void {
    if (this.#closed)
      throw new StagingFormatError('SOURCE_CLOSED', 'the in-memory sink was used after close()');
  }
}
