import { MemoryByteSource } from '../../byte-source/memory.ts';
import { StagingFormatError } from '../../errors.ts';
import type { LocationLock, LocationStore, VolumeFile } from './store.ts';

/** How a simulated crash treats bytes appended after the last sync of each file. */
export interface CrashOptions {
  /**
   * How many of the `unsynced` bytes of `file` survive (a torn tail); all of them when omitted
   * (a process kill keeps the page cache), pass `() => 0` for a power loss that loses them all.
   */
  keepUnsynced?: (file: string, unsynced: number) => number;
}

interface MemoryFile {
  bytes: Uint8Array;
  length: number;
  synced: number;
}

/**
 * A staging location in memory, for tests and browsers. It models durability: {@link crash}
 * forgets what was appended but not synced, as a power loss would, and breaks the lock.
 */
export class MemoryLocationStore implements LocationStore {
  readonly path: string;
  readonly #files = new Map<string, MemoryFile>();
  #locked = false;
  /** Bumped by crash(): handles of an older generation stop working, like a dead process's. */
  #generation = 0;

  constructor(path = 'memory:') {
    this.path = path;
  }

  pathOf(file: string): string {
    return `${this.path}/${file}`;
  }

  /** Simulates a crash of the writer: unsynced bytes are (partly) lost and the lock disappears. */
  crash(options: CrashOptions = {}): void {
    this.#generation++;
    this.#locked = false;
    for (const [name, file] of this.#files) {
      const unsynced = file.length - file.synced;
      const kept = Math.min(
        unsynced,
        Math.max(0, options.keepUnsynced?.(name, unsynced) ?? unsynced),
      );
      file.length = file.synced + kept;
      file.synced = file.length;
    }
  }

  /** The current bytes of `file` (a copy), for tests that damage or inspect files. */
  snapshot(file: string): Uint8Array | undefined {
    const entry = this.#files.get(file);
    return entry?.bytes.slice(0, entry.length);
  }

  /** Replaces `file` as if written and synced, for tests that damage files. */
  put(file: string, bytes: Uint8Array): void {
    this.#files.set(file, { bytes: bytes.slice(), length: bytes.length, synced: bytes.length });
  }

  /** Removes `file`, for tests. */
  delete(file: string): void {
    this.#files.delete(file);
  }

  async readFile(file: string): Promise<Uint8Array | undefined> {
    return this.snapshot(file);
  }

  async writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
    this.put(file, bytes);
  }

  async listVolumeFiles(): Promise<string[]> {
    return [...this.#files.keys()].filter((name) => name.startsWith('volumes/')).sort();
  }

  async createVolume(file: string): Promise<VolumeFile> {
    if (this.#files.has(file)) {
      throw new StagingFormatError('STAGING_IO', `${this.pathOf(file)} already exists`, {
        path: this.pathOf(file),
      });
    }
    this.#files.set(file, { bytes: new Uint8Array(0), length: 0, synced: 0 });
    return this.#handle(file);
  }

  async openVolume(file: string): Promise<VolumeFile | undefined> {
    return this.#files.has(file) ? this.#handle(file) : undefined;
  }

  async openSource(file: string): Promise<MemoryByteSource> {
    const bytes = this.snapshot(file);
    if (bytes === undefined) {
      throw new StagingFormatError('SOURCE_IO', `${this.pathOf(file)} does not exist`, {
        path: this.pathOf(file),
      });
    }
    return new MemoryByteSource(bytes);
  }

  async lock(): Promise<LocationLock> {
    if (this.#locked) {
      throw new StagingFormatError('STAGING_LOCKED', `${this.path} is locked by another writer`, {
        path: this.path,
      });
    }
    this.#locked = true;
    const generation = this.#generation;
    return {
      release: async () => {
        if (generation === this.#generation) this.#locked = false;
      },
    };
  }

  #handle(name: string): VolumeFile {
    const generation = this.#generation;
    const file = (): MemoryFile => {
      const entry = this.#files.get(name);
      if (entry === undefined || generation !== this.#generation) {
        throw new StagingFormatError('STAGING_CLOSED', `${this.pathOf(name)} is no longer open`, {
          path: this.pathOf(name),
        });
      }
      return entry;
    };
    return {
      get size() {
        return file().length;
      },
      append: async (chunks) => {
        const entry = file();
        const added = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
        if (entry.length + added > entry.bytes.length) {
          const grown = new Uint8Array(
            Math.max(entry.length + added, entry.bytes.length * 2, 4096),
          );
          grown.set(entry.bytes.subarray(0, entry.length));
          entry.bytes = grown;
        }
        for (const chunk of chunks) {
          entry.bytes.set(chunk, entry.length);
          entry.length += chunk.length;
        }
      },
      sync: async () => {
        const entry = file();
        entry.synced = entry.length;
      },
      truncate: async (size) => {
        const entry = file();
        entry.length = Math.min(entry.length, size);
        entry.synced = entry.length;
      },
      read: async (offset, length) => {
        const entry = file();
        if (offset + length > entry.length) {
          throw new StagingFormatError(
            'SOURCE_OUT_OF_RANGE',
            `read past the end of ${this.pathOf(name)}`,
            {
              path: this.pathOf(name),
              offset,
            },
          );
        }
        return entry.bytes.slice(offset, offset + length);
      },
      close: async () => {},
    };
  }
}
