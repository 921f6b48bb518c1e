import { StagingFormatError } from '../../errors.ts';
import { crc32 } from '../hashing/crc32.ts';
import { asciiBytes, readAscii, readSafeU64, viewOf, writeU64 } from './bytes.ts';
import {
  CHECKSUM_BLOCK_SIZE,
  INDEX_ENTRY_SIZE,
  MAX_CATALOG_SIZE,
  RECORD_HEADER_SIZE,
  STAGING_FORMAT_VERSION,
  STAGING_ID_SIZE,
  TRAILER_MAGIC,
  TRAILER_SIZE,
} from './constants.ts';

/** A byte range inside the volume. */
export interface Section {
  offset: number;
  length: number;
}

/** The last 512 bytes of a sealed volume's payload, just before the VHD footer. */
export interface Trailer {
  formatVersion: number;
  stagingId: Uint8Array;
  volumeNumber: number;
  /** Number of blob records (sync marks not counted). */
  recordCount: number;
  /** Sorted index of the records; it starts where the records end. */
  index: Section;
  /** UTF-8 JSON of the snapshots this volume ends. */
  catalog: Section;
  /** SHA-256 per 2 MiB block of bytes [0, table.offset). */
  table: Section;
  /** SHA-256 of the table itself. */
  tableSha256: Uint8Array;
  sealedAtMs: number;
}

// Layout (big-endian): 0 magic[8] | 8 version u32 | 12 volume number u32 | 16 staging id[16] |
// 32 record count u64 | 40 index offset u64 | 48 index length u64 | 56 catalog offset u64 |
// 64 catalog length u64 | 72 table offset u64 | 80 table length u64 | 88 block size u32 |
// 92 zero u32 | 96 sealed ms u64 | 104 table sha256[32] | … zero … | 508 crc32 u32
const CRC_OFFSET = TRAILER_SIZE - 4;

export function encodeTrailer(trailer: Omit<Trailer, 'formatVersion'>): Uint8Array {
  const out = new Uint8Array(TRAILER_SIZE);
  const view = viewOf(out);
  out.set(asciiBytes(TRAILER_MAGIC), 0);
  view.setUint32(8, STAGING_FORMAT_VERSION);
  view.setUint32(12, trailer.volumeNumber);
  out.set(trailer.stagingId, 16);
  writeU64(view, 32, trailer.recordCount);
  let offset = 40;
  for (const section of [trailer.index, trailer.catalog, trailer.table]) {
    writeU64(view, offset, section.offset);
    writeU64(view, offset + 8, section.length);
    offset += 16;
  }
  view.setUint32(88, CHECKSUM_BLOCK_SIZE);
  writeU64(view, 96, trailer.sealedAtMs);
  out.set(trailer.tableSha256, 104);
  view.setUint32(CRC_OFFSET, crc32(out.subarray(0, CRC_OFFSET)));
  return out;
}

/**
 * Decodes a trailer found at `trailerOffset` and checks that its sections are ordered, inside
 * [superblock end, trailerOffset) and consistent with each other, so later reads can trust them.
 */
export function decodeTrailer(
  bytes: Uint8Array,
  trailerOffset: number,
  firstRecordOffset: number,
  path?: string,
): Trailer {
  const where = { offset: trailerOffset, ...(path === undefined ? {} : { path }) };
  const name = path ?? 'volume';
  if (readAscii(bytes, 0, 8) !== TRAILER_MAGIC) {
    throw new StagingFormatError(
      'VOLUME_NOT_SEALED',
      `${name}: no trailer before the VHD footer`,
      where,
    );
  }
  const view = viewOf(bytes);
  if (view.getUint32(CRC_OFFSET) !== crc32(bytes.subarray(0, CRC_OFFSET))) {
    throw new StagingFormatError('VOLUME_BAD_TRAILER', `${name}: trailer checksum mismatch`, where);
  }
  const formatVersion = view.getUint32(8);
  if (formatVersion !== STAGING_FORMAT_VERSION) {
    throw new StagingFormatError(
      'STAGING_UNSUPPORTED_VERSION',
      `${name}: volume format version ${formatVersion} is not supported`,
      where,
    );
  }
  const section = (at: number): Section => ({
    offset: readSafeU64(view, at),
    length: readSafeU64(view, at + 8),
  });
  const trailer: Trailer = {
    formatVersion,
    volumeNumber: view.getUint32(12),
    stagingId: bytes.slice(16, 16 + STAGING_ID_SIZE),
    recordCount: readSafeU64(view, 32),
    index: section(40),
    catalog: section(56),
    table: section(72),
    sealedAtMs: readSafeU64(view, 96),
    tableSha256: bytes.slice(104, 136),
  };
  const { index, catalog, table } = trailer;
  const expectedTableLength = Math.ceil(table.offset / CHECKSUM_BLOCK_SIZE) * 32;
  const problem =
    view.getUint32(88) !== CHECKSUM_BLOCK_SIZE
      ? 'unexpected checksum block size'
      : !(index.offset >= firstRecordOffset)
        ? 'index starts inside the superblock'
        : catalog.offset !== index.offset + index.length
          ? 'catalog does not follow the index'
          : table.offset !== catalog.offset + catalog.length
            ? 'checksum table does not follow the catalog'
            : !(table.offset + table.length <= trailerOffset)
              ? 'sections overlap the trailer'
              : table.length !== expectedTableLength
                ? 'checksum table length does not match the payload'
                : // Every record takes at least a header, so the count bounds what the index may hold.
                  !(trailer.recordCount * RECORD_HEADER_SIZE <= index.offset - firstRecordOffset) ||
                    index.length !== trailer.recordCount * INDEX_ENTRY_SIZE
                  ? 'record count does not fit the records or the index'
                  : catalog.length > MAX_CATALOG_SIZE
                    ? 'catalog larger than any this library writes'
                    : undefined;
  if (problem !== undefined) {
    throw new StagingFormatError('VOLUME_BAD_TRAILER', `${name}: ${problem}`, where);
  }
  return trailer;
}
