import type { ByteSource } from '../../byte-source/byte-source.ts';

/**
 * A volume file opened for appending: the writer's only way to touch a volume. `append` may leave
 * data in volatile caches; only after `sync` resolves is it durable.
 */
export interface VolumeFile {
  /** Bytes appended so far (durable or not). */
  readonly size: number;
  append(chunks: readonly Uint8Array[]): Promise<void>;
  /** Makes everything appended durable (fsync). */
  sync(): Promise<void>;
  /** Cuts the file to `size` bytes (dropping a torn tail) and makes that durable. */
  truncate(size: number): Promise<void>;
  /** Reads bytes appended so far (durable or not) into a buffer of the caller's own. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Releases a location's writer lock. */
export interface LocationLock {
  release(): Promise<void>;
}

/**
 * The storage a staging location lives in: a directory (`./node`) or memory. File names are
 * relative to the location and use `/` (`staging.json`, `volumes/000001.vhd`).
 */
export interface LocationStore {
  /** Path (or label) of the location, for error messages. */
  readonly path: string;
  /** Path of `file` inside the location, for error messages. */
  pathOf(file: string): string;
  /** Contents of a small file, or `undefined` when it does not exist. */
  readFile(file: string): Promise<Uint8Array | undefined>;
  /** Replaces a small file atomically and durably (write temp, sync, rename, sync directory). */
  writeFileAtomic(file: string, bytes: Uint8Array): Promise<void>;
  /** Names of all files in `volumes/`, as `volumes/<name>`. */
  listVolumeFiles(): Promise<string[]>;
  /** Creates a new, empty volume file (durably, directory entry included); fails if it exists. */
  createVolume(file: string): Promise<VolumeFile>;
  /** Opens an existing volume file for appending, or `undefined` when it does not exist. */
  openVolume(file: string): Promise<VolumeFile | undefined>;
  /** Opens an existing file for reading. */
  openSource(file: string): Promise<ByteSource>;
  /** Takes the single-writer lock, or rejects with `STAGING_LOCKED`. */
  lock(): Promise<LocationLock>;
}
