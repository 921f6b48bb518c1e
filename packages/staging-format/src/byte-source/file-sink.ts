import { type FileHandle, open } from 'node:fs/promises';
import { StagingFormatError } from '../errors.ts';
import { type ByteSink, checkWriteRange } from './byte-sink.ts';
import type { ReadOptions } from './byte-source.ts';

/** How {@link FileByteSink.open} treats an existing file. */
export type FileSinkMode =
  /** Create a new file; fail with `SOURCE_IO` when it exists (the default: never overwrite). */
  | 'create'
  /** Create or empty the file. */
  | 'overwrite'
  /** Open an existing file for in-place updates (merges). */
  | 'update';

/** A {@link ByteSink} over a local file, written with positional writes. */
export class FileByteSink implements ByteSink {
  readonly path: string;
  #handle: FileHandle | undefined;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /** Opens `path` for writing; see {@link FileSinkMode}. */
  static async open(path: string, mode: FileSinkMode = 'create'): Promise<FileByteSink> {
    if (typeof path !== 'string' || path === '')
      throw new TypeError('"path" expected a non-empty string');
    const flags = { create: 'wx', overwrite: 'w', update: 'r+' }[mode];
    try {
      if (mode !== 'overwrite') return new FileByteSink(path, await open(path, flags));
      // Emptied by a handle of its own: a file truncated to zero and closed by the same handle that
      // wrote it makes ext4 start writing all its data back inside close() (its safeguard for
      // programs that rewrite files without fsync), which doubled the time of converting over an
      // existing file. Durability is what sync() gives, as it was.
      await (await open(path, 'w')).close();
      return new FileByteSink(path, await open(path, 'r+'));
    } catch (cause) {
      throw new StagingFormatError(
        'SOURCE_IO',
        `cannot open ${path} for writing: ${(cause as Error).message}`,
        {
          path,
          cause,
        },
      );
    }
  }

  async write(offset: number, bytes: Uint8Array, options: ReadOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    checkWriteRange(offset, bytes);
    const handle = this.#open();
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#io(offset + done, () =>
        handle.write(bytes, done, bytes.length - done, offset + done),
      );
      done += bytesWritten;
    }
  }

  async writev(
    offset: number,
    parts: readonly Uint8Array[],
    options: ReadOptions = {},
  ): Promise<void> {
    options.abortSignal?.throwIfAborted();
    for (const part of parts) checkWriteRange(offset, part);
    const handle = this.#open();
    const { bytesWritten } = await this.#io(offset, () => handle.writev([...parts], offset));
    // The kernel may stop short; what is left goes out with plain writes.
    let start = offset;
    let skip = bytesWritten;
    for (const part of parts) {
      if (skip < part.length) await this.write(start + skip, part.subarray(skip), options);
      skip = Math.max(0, skip - part.length);
      start += part.length;
    }
  }

  async truncate(size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`"size" expected a non-negative safe integer, got ${size}`);
    const handle = this.#open();
    await this.#io(size, () => handle.truncate(size));
  }

  async sync(): Promise<void> {
    const handle = this.#open();
    await this.#io(undefined, () => handle.sync());
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  #open(): FileHandle {
    if (this.#handle === undefined)
      throw new StagingFormatError('SOURCE_CLOSED', `${this.path} was written after close()`, {
        path: this.path,
      });
    return this.#handle;
  }

  /** Runs a file operation, turning OS failures (a full disk…) into `SOURCE_IO` with the offset. */
  async #io<T>(offset: number | undefined, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (cause) {
      throw new StagingFormatError(
        'SOURCE_IO',
        `cannot write ${this.path}: ${(cause as Error).message}`,
        {
          path: this.path,
          cause,
          ...(offset === undefined ? {} : { offset }),
        },
      );
    }
  }
}
