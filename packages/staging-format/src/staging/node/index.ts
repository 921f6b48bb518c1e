import type { ReadOptions } from '../../byte-source/byte-source.ts';
import { StagingReader } from '../location/reader.ts';
import { type CreateStagingOptions, StagingWriter } from '../location/writer.ts';
import { DirectoryLocationStore, type DirectoryStoreOptions } from './directory-store.ts';

export { DirectoryLocationStore, type DirectoryStoreOptions } from './directory-store.ts';
export { breakStaleLock, inspectLock, LOCK_FILE, type LockOwner, type LockState } from './lock.ts';

/** Creates a staging location in `dir` (created if missing, must not hold one) and opens it for writing. */
export function createStagingDirectory(
  dir: string,
  options: CreateStagingOptions & DirectoryStoreOptions,
): Promise<StagingWriter> {
  return StagingWriter.create(new DirectoryLocationStore(dir, options), options);
}

/** Opens the staging location in `dir` for writing, recovering it after a crash. */
export function openStagingDirectory(
  dir: string,
  options: ReadOptions & DirectoryStoreOptions = {},
): Promise<StagingWriter> {
  return StagingWriter.open(new DirectoryLocationStore(dir, options), options);
}

/** Opens the staging location in `dir` for reading only (no lock, no changes). */
export function readStagingDirectory(
  dir: string,
  options: ReadOptions = {},
): Promise<StagingReader> {
  return StagingReader.open(new DirectoryLocationStore(dir), options);
}
