import { readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { StagingFormatError } from '../errors.ts';
import { type ByteSource, checkReadRange, type ReadOptions } from './byte-source.ts';

/** Options of {@link FileByteSource.open}. */
export interface FileByteSourceOptions {
  /**
   * Reads of at most this many bytes are made synchronously; default 128 KiB, 0 for never. From
   * the page cache such a read takes a few µs, while an asynchronous one costs ~35 µs of CPU for
   * its round trip through libuv's thread pool, and reading a staging location's catalogs makes
   * thousands of small reads (an incremental stage runs ~20 % faster). Work that reads a whole
   * file block after block and has nothing else to do meanwhile (a disk conversion) runs about
   * 15 % faster with a limit of a block or more (4 MiB): one read at a time on this thread instead
   * of several competing in the pool. Set 0 for a file on slow or network storage, where one read
   * may block the event loop for milliseconds.
   */
  syncReadLimit?: number;
}

const defaultSyncReadLimit = 128 * 1024;

/**
 * A {@link ByteSource} over a local file, read with positional reads (safe to call concurrently).
 * The size is taken when the file is opened; a file that shrinks afterwards gives `SOURCE_SHORT_READ`.
 */
export class FileByteSource implements ByteSource {
  readonly size: number;
  readonly path: string;
  #handle: FileHandle | undefined;
  readonly #syncReadLimit: number;

  private constructor(path: string, handle: FileHandle, size: number, syncReadLimit: number) {
    this.path = path;
    this.#handle = handle;
    this.size = size;
    this.#syncReadLimit = syncReadLimit;
  }

  /** Opens `path` for reading. Rejects with `SOURCE_IO` when it cannot be opened or is not a file. */
  static async open(path: string, options: FileByteSourceOptions = {}): Promise<FileByteSource> {
    if (typeof path !== 'string' || path === '')
      throw new TypeError('"path" expected a non-empty string');
    const syncReadLimit = options.syncReadLimit ?? defaultSyncReadLimit;
    if (!Number.isSafeInteger(syncReadLimit) || syncReadLimit < 0) {
      throw new RangeError(
        `"syncReadLimit" expected a non-negative integer, got ${String(syncReadLimit)}`,
      );
    }
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (cause) {
      throw new StagingFormatError(
        'SOURCE_IO',
        `cannot open ${path}: ${(cause as Error).message}`,
        { path, cause },
      );
    }
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      throw new StagingFormatError('SOURCE_IO', `${path} is not a regular file`, { path });
    }
    return new FileByteSource(path, handle, stats.size, syncReadLimit);
  }

  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    // Validated before allocating: a hostile length must not become a huge buffer.
    checkReadRange(this.size, offset, length, this.path);
    const buffer = new Uint8Array(length);
    await this.readInto(buffer, offset, options);
    return buffer;
  }

  async readInto(target: Uint8Array, offset: number, options: ReadOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    const handle = this.#handle;
    if (handle === undefined) {
      throw new StagingFormatError('SOURCE_CLOSED', `${this.path} was read after close()`, {
        path: this.path,
        offset,
      });
    }
    const { length } = target;
    checkReadRange(this.size, offset, length, this.path);
    const sync = length <= this.#syncReadLimit;
    let done = 0;
    // The kernel may return fewer bytes than asked; only a zero-byte read means the data is gone.
    while (done < length) {
      let bytesRead: number;
      try {
        bytesRead = sync
          ? readSync(handle.fd, target, done, length - done, offset + done)
          : (await handle.read(target, done, length - done, offset + done)).bytesRead;
      } catch (cause) {
        throw new StagingFormatError(
          'SOURCE_IO',
          `cannot read ${this.path} at offset ${offset + done}`,
          {
            path: this.path,
            offset: offset + done,
            cause,
          },
        );
      }
      if (bytesRead === 0) {
        throw new StagingFormatError(
          'SOURCE_SHORT_READ',
          `${this.path} ended at offset ${offset + done}, before the ${this.size} bytes it had when opened`,
          { path: this.path, offset: offset + done },
        );
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}
