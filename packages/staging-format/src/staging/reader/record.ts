import { StagingFormatError } from '../../errors.ts';
import { bytesEqual, toHex } from '../format/bytes.ts';
import { RECORD_HEADER_SIZE, RecordType } from '../format/constants.ts';
import { decodeRecordHeader, headerCrc, type RecordHeader } from '../format/record.ts';
import type { IndexEntry } from '../format/sections.ts';
import { crc32 } from '../hashing/crc32.ts';
import type { SinkBlob } from '../sink.ts';

/**
 * Why a record does not match its index entry, or `undefined` when it does. `crc` is the CRC-32
 * computed over the record's header (CRC field as zero) and stored bytes.
 */
export function recordProblem(
  header: RecordHeader | string,
  entry: IndexEntry,
  crc: number,
): string | undefined {
  if (typeof header === 'string') return header;
  if (
    !bytesEqual(header.id, entry.id) ||
    header.storedLength !== entry.storedLength ||
    header.type !== RecordType[entry.type]
  ) {
    return 'record header does not match the index';
  }
  return header.crc === crc ? undefined : 'record CRC mismatch';
}

/**
 * Checks the bytes of one record (header and stored bytes, as read at `entry.offset` into a buffer
 * of the caller's own) against its index entry and CRC, and returns the blob, which keeps a view
 * of those bytes.
 * @throws {StagingFormatError} `VOLUME_BAD_RECORD` at the record's offset.
 */
export function blobFromRecord(bytes: Uint8Array, entry: IndexEntry, path?: string): SinkBlob {
  const headerBytes = bytes.subarray(0, RECORD_HEADER_SIZE);
  const stored = bytes.subarray(RECORD_HEADER_SIZE);
  const header = decodeRecordHeader(headerBytes);
  const problem = recordProblem(header, entry, crc32(stored, headerCrc(headerBytes)));
  if (problem !== undefined || typeof header === 'string') {
    throw new StagingFormatError(
      'VOLUME_BAD_RECORD',
      `${path ?? 'volume'}: blob ${toHex(entry.id)}: ${problem}`,
      { offset: entry.offset, ...(path === undefined ? {} : { path }) },
    );
  }
  // The record was read into a buffer of its own (as `ByteSource.read` and `VolumeFile.read`
  // promise): the blob may keep a view of it, and a consumer may move it to another thread.
  return { id: entry.id.slice(), type: entry.type, rawLength: header.rawLength, bytes: stored };
}

/** The typed "not found" error of the blob source contract. */
export function blobNotFound(id: Uint8Array, where: string, path?: string): StagingFormatError {
  return new StagingFormatError('STAGING_BLOB_NOT_FOUND', `blob ${toHex(id)} is not in ${where}`, {
    ...(path === undefined ? {} : { path }),
  });
}
