import { crc32 } from '../hashing/crc32.ts';
import { readSafeU64, viewOf, writeU64 } from './bytes.ts';
import {
  BLOB_ID_SIZE,
  MAX_BLOB_SIZE,
  RECORD_HEADER_SIZE,
  RECORD_MAGIC,
  RecordType,
} from './constants.ts';

/** The header in front of every record's stored bytes. */
export interface RecordHeader {
  type: number;
  id: Uint8Array;
  rawLength: number;
  storedLength: number;
  /** CRC-32 over the header (this field as zero) followed by the stored bytes. */
  crc: number;
}

// Layout (big-endian): 0 magic u32 "OSRB" | 4 type u8 | 5..7 zero | 8 stored length u32 |
// 12 crc32 u32 | 16 raw length u64 | 24 id[32] | 56 stored bytes…
const CRC_OFFSET = 12;

/** Encodes a record header whose CRC covers `stored`. */
export function encodeRecordHeader(
  type: number,
  id: Uint8Array,
  rawLength: number,
  stored: Uint8Array,
): Uint8Array {
  const header = new Uint8Array(RECORD_HEADER_SIZE);
  const view = viewOf(header);
  view.setUint32(0, RECORD_MAGIC);
  view.setUint8(4, type);
  view.setUint32(8, stored.length);
  writeU64(view, 16, rawLength);
  header.set(id, 24);
  view.setUint32(CRC_OFFSET, crc32(stored, crc32(header)));
  return header;
}

/**
 * Decodes a record header, or returns a reason why these bytes are not one. It trusts nothing:
 * unknown types, lengths past `MAX_BLOB_SIZE` and non-zero reserved bytes are refused.
 */
export function decodeRecordHeader(bytes: Uint8Array): RecordHeader | string {
  if (bytes.length < RECORD_HEADER_SIZE) return 'header cut off';
  const view = viewOf(bytes);
  if (view.getUint32(0) !== RECORD_MAGIC) return 'no record magic';
  const type = view.getUint8(4);
  if (type !== RecordType.data && type !== RecordType.tree && type !== RecordType.syncMark) {
    return `unknown record type ${type}`;
  }
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) return 'reserved bytes are not zero';
  const storedLength = view.getUint32(8);
  if (storedLength > MAX_BLOB_SIZE) return `stored length ${storedLength} exceeds the maximum`;
  const rawLength = readSafeU64(view, 16);
  if (Number.isNaN(rawLength)) return 'raw length is not a safe integer';
  return {
    type,
    storedLength,
    rawLength,
    crc: view.getUint32(CRC_OFFSET),
    id: bytes.slice(24, 24 + BLOB_ID_SIZE),
  };
}

/** CRC-32 of an encoded header with its CRC field as zero: where a record's CRC starts. */
export function headerCrc(headerBytes: Uint8Array): number {
  const header = headerBytes.slice(0, RECORD_HEADER_SIZE);
  viewOf(header).setUint32(CRC_OFFSET, 0);
  return crc32(header);
}

/** True when `stored` matches the CRC of `headerBytes` (the encoded header it came with). */
export function recordCrcMatches(headerBytes: Uint8Array, stored: Uint8Array): boolean {
  return crc32(stored, headerCrc(headerBytes)) === viewOf(headerBytes).getUint32(CRC_OFFSET);
}
