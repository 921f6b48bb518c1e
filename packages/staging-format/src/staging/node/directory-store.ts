import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileByteSource } from '../../byte-source/file.ts';
import { StagingFormatError } from '../../errors.ts';
import { VOLUMES_DIR } from '../format/descriptor.ts';
import type { LocationLock, LocationStore, VolumeFile } from '../store/store.ts';
import { acquireLock, ioError } from './lock.ts';
import { openVolumeFile } from './volume-file.ts';

export interface DirectoryStoreOptions {
  /**
   * Write volumes with direct I/O (`O_DIRECT`), past the page cache, where the system allows it
   * (default `true`). Staging writes far more than it reads back soon, and the page cache's copy
   * and writeback would take CPU from hashing; pass `false` to keep freshly written volumes cached
   * for an immediate read.
   */
  directWrites?: boolean;
}

/**
 * A staging location in a directory: `staging.json`, `staging.lock`, `volumes/`. Durability is
 * explicit: volume data is `fdatasync`ed on `sync`, small files are replaced by write-temp, fsync,
 * rename, fsync of the directory, and new directory entries are fsynced too.
 */
export class DirectoryLocationStore implements LocationStore {
  readonly path: string;
  readonly #directWrites: boolean;

  constructor(path: string, options: DirectoryStoreOptions = {}) {
    if (typeof path !== 'string' || path === '')
      throw new TypeError('"path" expected a non-empty string');
    this.path = path;
    this.#directWrites = options.directWrites ?? true;
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
      const volume = await openVolumeFile(path, { create: true, direct: this.#directWrites });
      await syncDirectory(dirname(path)).catch(async (error: unknown) => {
        await volume.close().catch(() => {});
        throw error;
      });
      return volume;
    } catch (error) {
      if (error instanceof StagingFormatError) throw error;
      throw ioError(`cannot create ${path}`, path, error);
    }
  }

  async openVolume(file: string): Promise<VolumeFile | undefined> {
    const path = this.pathOf(file);
    try {
      return await openVolumeFile(path, { create: false, direct: this.#directWrites });
    } catch (error) {
      if (error instanceof StagingFormatError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(`cannot open ${path}`, path, error);
    }
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
