import { type FileHandle, open } from 'node:fs/promises';
import { StagingFormatError } from '../errors.ts';
import { type ByteSource, checkReadRange, type ReadOptions } from './byte-source.ts';

/**
 * A {@link ByteSource} over a local file, read with positional reads (safe to call concurrently).
 * The size is taken when the file is opened; a file that shrinks afterwards gives `SOURCE_SHORT_READ`.
 */
export class FileByteSource implements ByteSource {
  readonly size: number;
  readonly path: string;
  #handle: FileHandle | undefined;

  private constructor(path: string, handle: FileHandle, size: number) {
    this.path = path;
    this.#handle = handle;
    this.size = size;
  }

  /** Opens `path` for reading. Rejects with `SOURCE_IO` when it cannot be opened or is not a file. */
  static async open(path: string): Promise<FileByteSource> {
    if (typeof path !== 'string' || path === '')
      throw new TypeError('"path" expected a non-empty string');
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
    return new FileByteSource(path, handle, stats.size);
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
    let done = 0;
    // The kernel may return fewer bytes than asked; only a zero-byte read means the data is gone.
    while (done < length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(target, done, length - done, offset + done));
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
