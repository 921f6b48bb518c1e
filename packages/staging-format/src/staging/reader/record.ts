import { StagingFormatError } from '../../errors.ts';
import { bytesEqual, toHex } from '../format/bytes.ts';
import { RECORD_HEADER_SIZE, RecordType } from '../format/constants.ts';
import { decodeRecordHeader, recordCrcMatches } from '../format/record.ts';
import type { IndexEntry } from '../format/sections.ts';
import type { SinkBlob } from '../sink.ts';

/**
 * Checks the bytes of one record (header and stored bytes, as read at `entry.offset`) against its
 * index entry and CRC, and returns the blob.
 * @throws {StagingFormatError} `VOLUME_BAD_RECORD` at the record's offset.
 */
export function blobFromRecord(bytes: Uint8Array, entry: IndexEntry, path?: string): SinkBlob {
  const headerBytes = bytes.subarray(0, RECORD_HEADER_SIZE);
  const stored = bytes.subarray(RECORD_HEADER_SIZE);
  const header = decodeRecordHeader(headerBytes);
  const problem =
    typeof header === 'string'
      ? header
      : !bytesEqual(header.id, entry.id) ||
          header.storedLength !== entry.storedLength ||
          header.type !== RecordType[entry.type]
        ? 'record header does not match the index'
        : !recordCrcMatches(headerBytes, stored)
          ? 'record CRC mismatch'
          : undefined;
  if (problem !== undefined || typeof header === 'string') {
    throw new StagingFormatError(
      'VOLUME_BAD_RECORD',
      `${path ?? 'volume'}: blob ${toHex(entry.id)}: ${problem}`,
      { offset: entry.offset, ...(path === undefined ? {} : { path }) },
    );
  }
  return {
    id: entry.id.slice(),
    type: entry.type,
    rawLength: header.rawLength,
    bytes: stored.slice(),
  };
}

/** The typed "not found" error of the blob source contract. */
export function blobNotFound(id: Uint8Array, where: string, path?: string): StagingFormatError {
  return new StagingFormatError('STAGING_BLOB_NOT_FOUND', `blob ${toHex(id)} is not in ${where}`, {
    ...(path === undefined ? {} : { path }),
  });
}
