import { StagingFormatError } from '../errors.ts';
import { type ByteSource, checkReadRange, type ReadOptions } from './byte-source.ts';

/**
 * A {@link ByteSource} over bytes already in memory. Reads return views, not copies: callers that
 * keep or modify what they read must copy it.
 */
export class MemoryByteSource implements ByteSource {
  readonly size: number;
  #bytes: Uint8Array | undefined;

  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    this.#bytes = bytes;
    this.size = bytes.length;
  }

  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    return this.#view(offset, length, options).slice();
  }

  async readInto(target: Uint8Array, offset: number, options: ReadOptions = {}): Promise<void> {
    target.set(this.#view(offset, target.length, options));
  }

  #view(offset: number, length: number, options: ReadOptions): Uint8Array {
    options.abortSignal?.throwIfAborted();
    const bytes = this.#bytes;
    if (bytes === undefined) {
      throw new StagingFormatError('SOURCE_CLOSED', 'the in-memory source was read after close()', {
        offset,
      });
    }
    checkReadRange(this.size, offset, length);
    return bytes.subarray(offset, offset + length);
  }

  async close(): Promise<void> {
    this.#bytes = undefined;
  }
}
