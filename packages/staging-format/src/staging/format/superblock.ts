import { StagingFormatError } from '../../errors.ts';
import { crc32 } from '../hashing/crc32.ts';
import { asciiBytes, readAscii, readSafeU64, viewOf, writeU64 } from './bytes.ts';
import {
  CHECKSUM_BLOCK_SIZE,
  STAGING_FORMAT_VERSION,
  STAGING_ID_SIZE,
  SUPERBLOCK_MAGIC,
  SUPERBLOCK_SIZE,
} from './constants.ts';

/** What the first 4 KiB of a volume say about it. */
export interface Superblock {
  formatVersion: number;
  /** 16-byte id of the staging location the volume belongs to. */
  stagingId: Uint8Array;
  /** 1-based number of the volume within its location. */
  volumeNumber: number;
  /** Milliseconds since the Unix epoch. */
  createdAtMs: number;
}

// Layout (big-endian): 0 magic[8] | 8 version u32 | 12 superblock size u32 | 16 staging id[16] |
// 32 volume number u32 | 36 checksum block size u32 | 40 created ms u64 | … zero … | 4092 crc32 u32
const CRC_OFFSET = SUPERBLOCK_SIZE - 4;

export function encodeSuperblock(superblock: Omit<Superblock, 'formatVersion'>): Uint8Array {
  const out = new Uint8Array(SUPERBLOCK_SIZE);
  const view = viewOf(out);
  out.set(asciiBytes(SUPERBLOCK_MAGIC), 0);
  view.setUint32(8, STAGING_FORMAT_VERSION);
  view.setUint32(12, SUPERBLOCK_SIZE);
  out.set(superblock.stagingId, 16);
  view.setUint32(32, superblock.volumeNumber);
  view.setUint32(36, CHECKSUM_BLOCK_SIZE);
  writeU64(view, 40, superblock.createdAtMs);
  view.setUint32(CRC_OFFSET, crc32(out.subarray(0, CRC_OFFSET)));
  return out;
}

/** Decodes and validates a superblock; `path` names the volume in errors. */
export function decodeSuperblock(bytes: Uint8Array, path?: string): Superblock {
  const fail = (message: string, code: 'VOLUME_BAD_SUPERBLOCK' | 'STAGING_UNSUPPORTED_VERSION') =>
    new StagingFormatError(code, `${path ?? 'volume'}: ${message}`, {
      offset: 0,
      ...(path === undefined ? {} : { path }),
    });
  if (bytes.length < SUPERBLOCK_SIZE)
    throw fail('shorter than a superblock', 'VOLUME_BAD_SUPERBLOCK');
  if (readAscii(bytes, 0, 8) !== SUPERBLOCK_MAGIC) {
    throw fail('not a staging volume (no superblock magic)', 'VOLUME_BAD_SUPERBLOCK');
  }
  const view = viewOf(bytes);
  if (view.getUint32(CRC_OFFSET) !== crc32(bytes.subarray(0, CRC_OFFSET))) {
    throw fail('superblock checksum mismatch', 'VOLUME_BAD_SUPERBLOCK');
  }
  const formatVersion = view.getUint32(8);
  if (formatVersion !== STAGING_FORMAT_VERSION) {
    throw fail(
      `volume format version ${formatVersion} is not supported`,
      'STAGING_UNSUPPORTED_VERSION',
    );
  }
  if (view.getUint32(12) !== SUPERBLOCK_SIZE || view.getUint32(36) !== CHECKSUM_BLOCK_SIZE) {
    throw fail('unexpected superblock or checksum block size', 'VOLUME_BAD_SUPERBLOCK');
  }
  return {
    formatVersion,
    stagingId: bytes.slice(16, 16 + STAGING_ID_SIZE),
    volumeNumber: view.getUint32(32),
    createdAtMs: readSafeU64(view, 40),
  };
}
