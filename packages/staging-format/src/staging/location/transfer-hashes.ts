import { StagingFormatError } from '../../errors.ts';
import { MAX_PAGE_RANGE, SECTOR_SIZE } from '../../vhd/index.ts';
import type { TransferRange } from '../writer/stream-hasher.ts';

/** Sidecar of a sealed volume: MD5 per non-zero page range, for drive preparation. */
export interface TransferHashes {
  format: typeof TRANSFER_HASHES_FORMAT;
  version: 1;
  volume: number;
  /** Size of the volume file the ranges cover. */
  fileSize: number;
  ranges: TransferRange[];
}

export const TRANSFER_HASHES_FORMAT = 'offline-seed.transfer-hashes';

/** JSON with one `[offset, length, md5]` line per range, compact for a quarter million ranges. */
export function encodeTransferHashes(
  volume: number,
  fileSize: number,
  ranges: readonly TransferRange[],
): Uint8Array {
  const lines = ranges.map((r) => `[${r.offset},${r.length},"${r.md5}"]`).join(',\n');
  const head = JSON.stringify({ format: TRANSFER_HASHES_FORMAT, version: 1, volume, fileSize });
  return new TextEncoder().encode(`${head.slice(0, -1)},"ranges":[\n${lines}\n]}\n`);
}

/**
 * Parses and checks a transfer-hashes sidecar: ranges sorted, non-overlapping, 512-aligned (the
 * last may end at the file's end), at most 4 MiB, inside the file, MD5s as 32 hex digits.
 * @throws {StagingFormatError} `STAGING_BAD_DESCRIPTOR` naming the file.
 */
export function decodeTransferHashes(bytes: Uint8Array, path: string): TransferHashes {
  const fail = (why: string, cause?: unknown) =>
    new StagingFormatError('STAGING_BAD_DESCRIPTOR', `${path}: ${why}`, { path, cause });
  let json: {
    format?: unknown;
    version?: unknown;
    volume?: unknown;
    fileSize?: unknown;
    ranges?: unknown;
  };
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw fail('not valid UTF-8 JSON', cause);
  }
  if (json?.format !== TRANSFER_HASHES_FORMAT || json.version !== 1)
    throw fail('not a version 1 transfer-hashes file');
  const { volume, fileSize, ranges } = json;
  if (!Number.isSafeInteger(volume) || !Number.isSafeInteger(fileSize) || !Array.isArray(ranges)) {
    throw fail('"volume", "fileSize" or "ranges" missing');
  }
  let previousEnd = 0;
  const out: TransferRange[] = ranges.map((range: unknown, i) => {
    const [offset, length, md5] = Array.isArray(range) ? range : [];
    const end = (offset as number) + (length as number);
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      typeof md5 !== 'string' ||
      !/^[0-9a-f]{32}$/.test(md5) ||
      (offset as number) < previousEnd ||
      (offset as number) % SECTOR_SIZE !== 0 ||
      (length as number) <= 0 ||
      (length as number) > MAX_PAGE_RANGE ||
      end > (fileSize as number) ||
      (end % SECTOR_SIZE !== 0 && end !== fileSize)
    ) {
      throw fail(`range ${i} is invalid`);
    }
    previousEnd = end;
    return { offset: offset as number, length: length as number, md5 };
  });
  return {
    format: TRANSFER_HASHES_FORMAT,
    version: 1,
    volume: volume as number,
    fileSize: fileSize as number,
    ranges: out,
  };
}
