import {
  closeSync,
  constants,
  fchmodSync,
  ftruncateSync,
  futimesSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { ChunkEngineError } from '../errors.ts';

/** What a restored file gets besides its content. */
export interface RestoredFileMeta {
  /** Length the catalog records; the content must have exactly this many bytes. */
  size: number;
  /** Permission bits. */
  mode: number;
  /** Modification (and access) time, in seconds. */
  mtimeSeconds: number;
  /** Replace a file that exists at the path; otherwise an existing file fails. */
  overwrite: boolean;
}

/** The flags every restored file is created with: never through a symlink, never over a file. */
export const restoredFileFlags =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Writes `data` as the whole content of a new file, synchronously: on a worker thread, where
 * blocking calls cost a few microseconds each against tens for the event loop's round trips.
 * All-zero content becomes a hole. Nothing is left at `path` when it fails.
 */
export function writeWholeFileSync(path: string, data: Uint8Array, meta: RestoredFileMeta): void {
  if (data.length !== meta.size) {
    throw new ChunkEngineError(
      'CATALOG_CORRUPT',
      `its chunks hold ${data.length} bytes, the catalog says ${meta.size}`,
    );
  }
  if (meta.overwrite) rmSync(path, { force: true });
  const fd = openSync(path, restoredFileFlags, 0o600);
  let complete = false;
  try {
    if (isAllZero(data)) ftruncateSync(fd, data.length);
    else for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at, at);
    fchmodSync(fd, meta.mode);
    futimesSync(fd, meta.mtimeSeconds, meta.mtimeSeconds);
    complete = true;
  } finally {
    closeSync(fd);
    if (!complete) rmSync(path, { force: true });
  }
}

/** True when every byte is zero (chunks like that are restored as holes). */
export function isAllZero(data: Uint8Array): boolean {
  // Compare four bytes at a time where alignment allows.
  const words = data.byteOffset % 4 === 0 ? data.length >>> 2 : 0;
  const view = new Uint32Array(data.buffer, data.byteOffset, words);
  for (let i = 0; i < words; i++) if (view[i] !== 0) return false;
  for (let i = words * 4; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
