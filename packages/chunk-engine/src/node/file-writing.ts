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
    else writeAllSync(fd, data, 0);
    fchmodSync(fd, meta.mode);
    futimesSync(fd, meta.mtimeSeconds, meta.mtimeSeconds);
    complete = true;
  } finally {
    closeSync(fd);
    if (!complete) rmSync(path, { force: true });
  }
}

/**
 * Writes `data` at `position` into the file at `path`, which the caller created and finishes
 * (length, mode, mtime), synchronously; an all-zero chunk is not written, it stays a hole. Opens
 * the file by path rather than taking a descriptor: a write that outlives its file's failure finds
 * the file removed, where a descriptor could by then name another file.
 */
export function writeChunkSync(path: string, data: Uint8Array, position: number): void {
  if (isAllZero(data)) return;
  const fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    writeAllSync(fd, data, position);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `data` at `position` (a write may take fewer bytes than it was given). */
function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  for (let at = 0; at < data.length; ) {
    at += writeSync(fd, data, at, data.length - at, position + at);
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
