import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { pageAlignedBytes } from '../../byte-source/aligned.ts';
import { alignUp } from '../format/bytes.ts';
import { MiB } from '../format/constants.ts';
import type { VolumeFile } from '../store/store.ts';
import { ioError } from './lock.ts';

/** Offsets, lengths and memory of direct writes are multiples of this (512-byte and 4Kn disks). */
const DIRECT_ALIGNMENT = 4096;
/** Bytes gathered before one direct write. */
const DIRECT_WRITE_SIZE = 4 * MiB;
/** Direct writes in flight at once, at most: one more buffer fills meanwhile. */
const DIRECT_WRITES_IN_FLIGHT = 2;
/** `O_DIRECT` where the platform has it (Linux); elsewhere writes go through the page cache. */
const O_DIRECT = (constants as { O_DIRECT?: number }).O_DIRECT;

/**
 * Opens a volume file for appending: a new one (`create`, which fails if it exists) or an
 * existing one. With `direct`, writes bypass the page cache where the system allows it.
 */
export async function openVolumeFile(
  path: string,
  how: { create: boolean; direct: boolean },
): Promise<VolumeFile> {
  const plain = await open(path, how.create ? 'wx+' : 'r+');
  let size: number;
  let direct: FileHandle | undefined;
  try {
    size = how.create ? 0 : (await plain.stat()).size;
    if (how.direct && O_DIRECT !== undefined) {
      // EINVAL: the file system does not do direct I/O.
      direct = await open(path, constants.O_RDWR | O_DIRECT).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
        throw error;
      });
    }
  } catch (error) {
    await plain.close();
    throw error;
  }
  return direct === undefined
    ? new BufferedVolumeFile(plain, path, size)
    : DirectVolumeFile.open(direct, plain, path, size);
}

/** A volume file appended with positional `writev` through the page cache. */
class BufferedVolumeFile implements VolumeFile {
  readonly #handle: FileHandle;
  readonly #path: string;
  #size: number;

  constructor(handle: FileHandle, path: string, size: number) {
    this.#handle = handle;
    this.#path = path;
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  async append(chunks: readonly Uint8Array[]): Promise<void> {
    const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    await writeFully(this.#handle, this.#path, chunks, this.#size);
    this.#size += bytes;
  }

  sync(): Promise<void> {
    return syncData(this.#handle, this.#path);
  }

  async truncate(size: number): Promise<void> {
    await truncateFile(this.#handle, this.#path, size);
    this.#size = Math.min(this.#size, size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buffer = new Uint8Array(length);
    await readFully(this.#handle, this.#path, buffer, offset);
    return buffer;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/**
 * A volume file written with `O_DIRECT`: appended bytes are gathered in page-aligned memory and
 * written 4 MiB at a time straight to the device, one buffer filling while two are written.
 * Staging writes many gigabytes that nobody reads back soon; through the page cache they cost the
 * kernel a copy, page allocation and writeback, CPU that the hashes need.
 *
 * The last partial block stays in memory: `sync` writes it padded with zeros, cuts the file to
 * its true size and writes the block again, whole, once more bytes follow; the bytes already in
 * it are the same in both writes, so a torn write cannot damage them. Reads, truncation and syncs
 * use a second, ordinary handle. Should the file system refuse a direct write (`EINVAL`: memory
 * or offsets it cannot take), the file goes on through that handle as a buffered file would.
 */
export class DirectVolumeFile implements VolumeFile {
  #writer: FileHandle;
  readonly #plain: FileHandle;
  readonly #path: string;
  /** Buffers free to fill next. */
  readonly #spare = Array.from({ length: DIRECT_WRITES_IN_FLIGHT }, () =>
    pageAlignedBytes(DIRECT_WRITE_SIZE),
  );
  /** The buffer being filled. */
  #buffer = pageAlignedBytes(DIRECT_WRITE_SIZE);
  /**
   * File offset of `#buffer[0]`, a multiple of the alignment; the bytes before it are written or
   * being written.
   */
  #start = 0;
  #filled = 0;
  /** True when the buffer holds bytes the file does not have yet. */
  #dirty = false;
  /** Writes of full buffers, oldest first; the last one ends at `#start`. */
  readonly #inFlight: Array<Promise<Uint8Array>> = [];
  #failed = false;

  private constructor(writer: FileHandle, plain: FileHandle, path: string) {
    this.#writer = writer;
    this.#plain = plain;
    this.#path = path;
  }

  /** `writer` is opened with `O_DIRECT`, `plain` without; `size` is the file's current size. */
  static async open(writer: FileHandle, plain: FileHandle, path: string, size: number) {
    const file = new DirectVolumeFile(writer, plain, path);
    try {
      await file.#load(size);
    } catch (error) {
      await file.close();
      throw error;
    }
    return file;
  }

  get size(): number {
    return this.#start + this.#filled;
  }

  /** False once the file system refused a direct write and the file went buffered. */
  get direct(): boolean {
    return this.#writer !== this.#plain;
  }

  async append(chunks: readonly Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length; ) {
        const take = Math.min(chunk.length - at, this.#buffer.length - this.#filled);
        this.#buffer.set(chunk.subarray(at, at + take), this.#filled);
        this.#filled += take;
        this.#dirty = true;
        at += take;
        if (this.#filled === this.#buffer.length) {
          if (this.#spare.length === 0) this.#spare.push(await this.#inFlight.shift()!);
          const full = this.#buffer;
          const writing = this.#write(full, full.length, this.#start).then(() => full);
          writing.catch(() => {}); // reported when awaited
          this.#inFlight.push(writing);
          this.#buffer = this.#spare.pop()!;
          this.#start += full.length;
          this.#filled = 0;
          this.#dirty = false;
        }
      }
    }
  }

  async sync(): Promise<void> {
    await this.#writeOut();
    await syncData(this.#plain, this.#path);
  }

  async truncate(size: number): Promise<void> {
    await this.#writeOut();
    const kept = Math.min(this.size, size);
    await truncateFile(this.#plain, this.#path, size);
    await this.#load(kept);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    await this.#settle();
    const bytes = new Uint8Array(length);
    const fromFile = Math.max(0, Math.min(length, this.#start - offset));
    await readFully(this.#plain, this.#path, bytes.subarray(0, fromFile), offset);
    const from = offset + fromFile - this.#start;
    const buffered = Math.max(0, Math.min(length - fromFile, this.#filled - from));
    bytes.set(this.#buffer.subarray(from, from + buffered), fromFile);
    if (fromFile + buffered < length) {
      const at = offset + fromFile + buffered;
      throw ioError(
        `cannot read ${this.#path}`,
        this.#path,
        new Error('unexpected end of file'),
        at,
      );
    }
    return bytes;
  }

  /** Writes what is still buffered (the file then holds every byte appended), then closes. */
  async close(): Promise<void> {
    try {
      if (!this.#failed) await this.#writeOut();
    } finally {
      await Promise.allSettled(this.#inFlight);
      if (this.direct) await this.#writer.close();
      await this.#plain.close();
    }
  }

  /** Makes the buffer hold the file's last partial block, for a file of `size` bytes. */
  async #load(size: number): Promise<void> {
    this.#start = size - (size % DIRECT_ALIGNMENT);
    this.#filled = size - this.#start;
    this.#dirty = false;
    await readFully(this.#plain, this.#path, this.#buffer.subarray(0, this.#filled), this.#start);
  }

  /** Waits for the writes in flight and throws the first failure. */
  async #settle(): Promise<void> {
    while (this.#inFlight.length > 0) this.#spare.push(await this.#inFlight.shift()!);
  }

  /**
   * Writes everything appended: waits for the writes in flight, writes the buffered bytes padded to
   * a whole block, cuts the padding off the file again and keeps the last partial block buffered.
   */
  async #writeOut(): Promise<void> {
    await this.#settle();
    if (!this.#dirty) return;
    const size = this.size;
    const padded = alignUp(this.#filled, DIRECT_ALIGNMENT);
    this.#buffer.fill(0, this.#filled, padded);
    await this.#write(this.#buffer, padded, this.#start);
    if (padded !== this.#filled) await truncateFile(this.#plain, this.#path, size, { sync: false });
    const whole = this.#filled - (this.#filled % DIRECT_ALIGNMENT);
    this.#buffer.copyWithin(0, whole, this.#filled);
    this.#start += whole;
    this.#filled -= whole;
    this.#dirty = false;
  }

  /** Writes the first `length` bytes of `buffer` at file offset `at`. */
  async #write(buffer: Uint8Array, length: number, at: number): Promise<void> {
    const writer = this.#writer;
    try {
      await writeFully(writer, this.#path, [buffer.subarray(0, length)], at);
    } catch (error) {
      const refused =
        error instanceof Error && (error.cause as NodeJS.ErrnoException)?.code === 'EINVAL';
      if (!refused || writer === this.#plain) {
        this.#failed = true;
        throw error;
      }
      // The same bytes at the same place, through the page cache from now on (the first of the
      // writes in flight to be refused switches).
      if (this.#writer === writer) {
        this.#writer = this.#plain;
        await writer.close().catch(() => {});
      }
      await this.#write(buffer, length, at);
    }
  }
}

/** Writes `chunks` one after another at `offset`, going on after short writes. */
async function writeFully(
  handle: FileHandle,
  path: string,
  chunks: readonly Uint8Array[],
  offset: number,
): Promise<void> {
  let pending = chunks.filter((chunk) => chunk.length > 0);
  let at = offset;
  while (pending.length > 0) {
    let written: number;
    try {
      ({ bytesWritten: written } = await handle.writev(pending as Uint8Array[], at));
    } catch (error) {
      throw ioError(`cannot write ${path}`, path, error, at);
    }
    at += written;
    // A short write (rare for files, but allowed) continues where it stopped.
    const rest: Uint8Array[] = [];
    for (const chunk of pending) {
      if (written >= chunk.length) written -= chunk.length;
      else {
        rest.push(chunk.subarray(written));
        written = 0;
      }
    }
    pending = rest;
  }
}

/** Fills `buffer` from `offset`; the file ending first is an error. */
async function readFully(
  handle: FileHandle,
  path: string,
  buffer: Uint8Array,
  offset: number,
): Promise<void> {
  for (let done = 0; done < buffer.length; ) {
    const { bytesRead } = await handle
      .read(buffer, done, buffer.length - done, offset + done)
      .catch((error: unknown) => {
        throw ioError(`cannot read ${path}`, path, error, offset + done);
      });
    if (bytesRead === 0)
      throw ioError(
        `cannot read ${path}`,
        path,
        new Error('unexpected end of file'),
        offset + done,
      );
    done += bytesRead;
  }
}

async function syncData(handle: FileHandle, path: string): Promise<void> {
  try {
    await handle.datasync();
  } catch (error) {
    throw ioError(`cannot sync ${path}`, path, error);
  }
}

async function truncateFile(
  handle: FileHandle,
  path: string,
  size: number,
  options = { sync: true },
): Promise<void> {
  try {
    await handle.truncate(size);
    if (options.sync) await handle.datasync();
  } catch (error) {
    throw ioError(`cannot truncate ${path}`, path, error, size);
  }
}
