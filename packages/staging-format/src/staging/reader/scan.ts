import { StagingFormatError } from '../../errors.ts';
import { readSafeU64, viewOf } from '../format/bytes.ts';
import { MiB, RECORD_HEADER_SIZE, RecordType, SUPERBLOCK_SIZE } from '../format/constants.ts';
import { decodeRecordHeader, recordCrcMatches } from '../format/record.ts';
import type { IndexEntry } from '../format/sections.ts';

/** Reads `length` bytes at `offset` of the volume being scanned. */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** What a scan of an unsealed volume found. */
export interface ScanResult {
  /** Complete blob records, in file order. */
  entries: IndexEntry[];
  /** End of the last complete record: everything after it is a torn tail. */
  end: number;
  /** End of the last sync mark: everything before it was acknowledged by a flush. */
  acknowledgedEnd: number;
  /** Bytes after `end` (a torn tail, or sealing sections of an interrupted seal). */
  tailBytes: number;
  /** Why the scan stopped before the end of the file, if it did. */
  stopReason?: string;
}

/**
 * Scans the records of a volume from the superblock on, checking each header and CRC, until the
 * end of the file or the first record that is not intact. Never reads past `size`, and never
 * allocates more than one record, whatever the headers claim. `onIntact` receives the bytes of
 * each intact record, in file order (recovery hashes them on the way).
 */
export async function scanRecords(
  readAt: ReadAt,
  size: number,
  onIntact?: (bytes: Uint8Array) => Promise<void>,
): Promise<ScanResult> {
  const entries: IndexEntry[] = [];
  let offset = SUPERBLOCK_SIZE;
  let acknowledgedEnd = SUPERBLOCK_SIZE;
  let stopReason: string | undefined;
  while (offset < size) {
    if (offset + RECORD_HEADER_SIZE > size) {
      stopReason = 'record header cut off';
      break;
    }
    const headerBytes = await readAt(offset, RECORD_HEADER_SIZE);
    const header = decodeRecordHeader(headerBytes);
    if (typeof header === 'string') {
      stopReason = header;
      break;
    }
    const end = offset + RECORD_HEADER_SIZE + header.storedLength;
    if (end > size) {
      stopReason = 'record cut off';
      break;
    }
    const stored = await readAt(offset + RECORD_HEADER_SIZE, header.storedLength);
    if (!recordCrcMatches(headerBytes, stored)) {
      stopReason = 'record CRC mismatch';
      break;
    }
    await onIntact?.(headerBytes);
    await onIntact?.(stored);
    if (header.type === RecordType.syncMark) {
      if (header.storedLength !== 8 || readSafeU64(viewOf(stored), 0) !== offset) {
        stopReason = 'sync mark in the wrong place';
        break;
      }
      acknowledgedEnd = end;
    } else {
      entries.push({
        id: header.id,
        offset,
        storedLength: header.storedLength,
        type: header.type === RecordType.tree ? 'tree' : 'data',
      });
    }
    offset = end;
  }
  return {
    entries,
    end: offset,
    acknowledgedEnd,
    tailBytes: size - offset,
    ...(stopReason === undefined ? {} : { stopReason }),
  };
}

/**
 * Looks for an intact sync mark after a scan stopped at `from`: if one exists, the damage sits
 * before data that a flush acknowledged, and dropping the tail would lose it.
 * @returns the offset of such a mark, or -1.
 */
export async function findSyncMarkAfter(
  readAt: ReadAt,
  from: number,
  size: number,
): Promise<number> {
  const magicAndType = [0x4f, 0x53, 0x52, 0x42, RecordType.syncMark, 0, 0, 0];
  const window = 4 * MiB;
  for (let start = from + 1; start + RECORD_HEADER_SIZE + 8 <= size; start += window) {
    const length = Math.min(window + RECORD_HEADER_SIZE + 8, size - start);
    const bytes = await readAt(start, length);
    for (let i = 0; i + RECORD_HEADER_SIZE + 8 <= bytes.length && i < window; i++) {
      if (bytes[i] !== 0x4f || !magicAndType.every((b, k) => bytes[i + k] === b)) continue;
      const header = bytes.subarray(i, i + RECORD_HEADER_SIZE);
      const stored = bytes.subarray(i + RECORD_HEADER_SIZE, i + RECORD_HEADER_SIZE + 8);
      if (
        recordCrcMatches(header, stored) &&
        viewOf(header).getUint32(8) === 8 &&
        readSafeU64(viewOf(stored), 0) === start + i
      ) {
        return start + i;
      }
    }
  }
  return -1;
}

/** The typed error for damage found before acknowledged data. */
export function corruptVolumeError(path: string, offset: number, reason: string, markAt: number) {
  return new StagingFormatError(
    'VOLUME_CORRUPT',
    `${path}: ${reason} at offset ${offset}, but data after it (a sync mark at ${markAt}) was acknowledged; refusing to drop it as a torn tail`,
    { path, offset },
  );
}
