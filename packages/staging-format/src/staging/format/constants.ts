/** Layout constants of staging volume format version 1 (see the package README, "Volume format"). */

/** Version of the volume layout and of `staging.json`; readers refuse versions they do not know. */
export const STAGING_FORMAT_VERSION = 1;

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Payload bytes covered by one SHA-256 of the block checksum table. */
export const CHECKSUM_BLOCK_SIZE = 2 * MiB;
/** The superblock fills the first 4 KiB page, so records start page-aligned. */
export const SUPERBLOCK_SIZE = 4096;
export const RECORD_HEADER_SIZE = 56;
export const INDEX_ENTRY_SIZE = 48;
export const TRAILER_SIZE = 512;
/** Length of a blob id: SHA-256 or HMAC-SHA-256. */
export const BLOB_ID_SIZE = 32;
export const STAGING_ID_SIZE = 16;

/** Largest blob the format stores (the stored length is a 32-bit field; 1 GiB keeps buffers sane). */
export const MAX_BLOB_SIZE = GiB;
/** Largest catalog section readers accept: catalogs hold a few snapshot records. */
export const MAX_CATALOG_SIZE = 64 * MiB;
/** Default largest volume file (VHD footer included). */
export const DEFAULT_MAX_VOLUME_SIZE = TiB;
/** Largest volume file: an Azure page blob holds at most 8 TiB. */
export const MAX_VOLUME_SIZE = 8 * TiB;
/** Smallest `maxVolumeSize`: one MiB of payload plus the footer must fit. */
export const MIN_VOLUME_SIZE = 2 * MiB;

/** ASCII magics. */
export const SUPERBLOCK_MAGIC = 'OSEEDVOL';
export const TRAILER_MAGIC = 'OSEEDEND';
/** Record magic "OSRB" as a big-endian u32. */
export const RECORD_MAGIC = 0x4f53_5242;

/** Record types as stored in the record header. */
export const RecordType = { data: 1, tree: 2, syncMark: 3 } as const;
