import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileByteSource } from '../../byte-source/file.ts';
import { VOLUMES_DIR } from '../format/descriptor.ts';
import type { LocationLock, LocationStore, VolumeFile } from '../store/store.ts';
import { acquireLock, ioError } from './lock.ts';

/**
 * A staging location in a directory: `staging.json`, `staging.lock`, `volumes/`. Durability is
 * explicit: volume data is `fdatasync`ed on `sync`, small files are replaced by write-temp, fsync,
 * rename, fsync of the directory, and new directory entries are fsynced too.
 */
export class DirectoryLocationStore implements LocationStore {
  readonly path: string;

  constructor(path: string) {
    if (typeof path !== 'string' || path === '')
      throw new TypeError('"path" expected a non-empty string');
    this.path = path;
  }

  pathOf(file: string): string {
    return join(this.path, ...file.split('/'));
  }

  async readFile(file: string): Promise<Uint8Array | undefined> {
    const path = this.pathOf(file);
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(`cannot read ${path}`, path, error);
    }
  }

  async writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
    const path = this.pathOf(file);
    const temporary = `${path}.${randomUUID()}.tmp`;
    try {
      await this.#ensureDirectory(dirname(path));
      const handle = await open(temporary, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
      await syncDirectory(dirname(path));
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw ioError(`cannot write ${path}`, path, error);
    }
  }

  async listVolumeFiles(): Promise<string[]> {
    const dir = this.pathOf(VOLUMES_DIR);
    try {
      return (await readdir(dir))
        .filter((name) => !name.endsWith('.tmp'))
        .map((name) => `${VOLUMES_DIR}/${name}`)
        .sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(`cannot list ${dir}`, dir, error);
    }
  }

  async createVolume(file: string): Promise<VolumeFile> {
    const path = this.pathOf(file);
    try {
      await this.#ensureDirectory(dirname(path));
      const handle = await open(path, 'wx+');
      await syncDirectory(dirname(path));
      return new FileVolume(handle, path, 0);
    } catch (error) {
      throw ioError(`cannot create ${path}`, path, error);
    }
  }

  async openVolume(file: string): Promise<VolumeFile | undefined> {
    const path = this.pathOf(file);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(`cannot open ${path}`, path, error);
    }
    return new FileVolume(handle, path, (await handle.stat()).size);
  }

  openSource(file: string): Promise<FileByteSource> {
    return FileByteSource.open(this.pathOf(file));
  }

  async lock(): Promise<LocationLock> {
    await this.#ensureDirectory(this.path);
    return acquireLock(this.path);
  }

  /** Creates `dir` (and parents) if missing, and makes the new entry durable. */
  async #ensureDirectory(dir: string): Promise<void> {
    try {
      const created = await mkdir(dir, { recursive: true });
      if (created !== undefined) await syncDirectory(dirname(dir));
    } catch (error) {
      throw ioError(`cannot create ${dir}`, dir, error);
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A volume file appended with positional `writev` and synced with `fdatasync`. */
class FileVolume implements VolumeFile {
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
    let pending = chunks.filter((chunk) => chunk.length > 0);
    while (pending.length > 0) {
      let written: number;
      try {
        ({ bytesWritten: written } = await this.#handle.writev(
          pending as Uint8Array[],
          this.#size,
        ));
      } catch (error) {
        throw ioError(`cannot write ${this.#path}`, this.#path, error, this.#size);
      }
      this.#size += written;
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

  async sync(): Promise<void> {
    try {
      await this.#handle.datasync();
    } catch (error) {
      throw ioError(`cannot sync ${this.#path}`, this.#path, error);
    }
  }

  async truncate(size: number): Promise<void> {
    try {
      await this.#handle.truncate(size);
      await this.#handle.datasync();
    } catch (error) {
      throw ioError(`cannot truncate ${this.#path}`, this.#path, error, size);
    }
    this.#size = Math.min(this.#size, size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.#handle
        .read(buffer, done, length - done, offset + done)
        .catch((error: unknown) => {
          throw ioError(`cannot read ${this.#path}`, this.#path, error, offset + done);
        });
      if (bytesRead === 0)
        throw ioError(
          `cannot read ${this.#path}`,
          this.#path,
          new Error('unexpected end of file'),
          offset + done,
        );
      done += bytesRead;
    }
    return buffer;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
