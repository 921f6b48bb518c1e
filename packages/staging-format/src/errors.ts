/**
 * Stable error codes of {@link StagingFormatError}. Codes never change meaning; new ones may be added.
 */
export type StagingFormatErrorCode =
  /** A read reached past the end of a {@link ByteSource}: the data points outside the file. */
  | 'SOURCE_OUT_OF_RANGE'
  /** The underlying file delivered fewer bytes than its size promised (truncated while open). */
  | 'SOURCE_SHORT_READ'
  /** The source was read after `close()`. */
  | 'SOURCE_CLOSED'
  /** The operating system refused to open or read the source. */
  | 'SOURCE_IO'
  // Staging locations (see the README, "Staging format, version 1").
  /** The directory has no `staging.json`, or it is not a staging descriptor. */
  | 'STAGING_NOT_A_LOCATION'
  /** `staging.json` is not valid JSON or breaks the descriptor schema (the message names the field). */
  | 'STAGING_BAD_DESCRIPTOR'
  /** `staging.json` or a volume has a format version this library does not know. */
  | 'STAGING_UNSUPPORTED_VERSION'
  /** A staging location already exists where a new one was to be created. */
  | 'STAGING_EXISTS'
  /** A snapshot with this id is already committed to the location. */
  | 'STAGING_SNAPSHOT_EXISTS'
  /** Another writer holds the location's lock (the message names its pid, host and start time). */
  | 'STAGING_LOCKED'
  /** The lock was not broken: its owner is alive, or runs on another host. */
  | 'STAGING_LOCK_NOT_STALE'
  /** A volume the descriptor lists is missing. */
  | 'STAGING_MISSING_VOLUME'
  /** A file in `volumes/` that the descriptor does not list. */
  | 'STAGING_EXTRA_VOLUME'
  /** No blob with the requested id is stored. */
  | 'STAGING_BLOB_NOT_FOUND'
  /** A writer or reader was used after `close()`, or after a failure that left it unusable. */
  | 'STAGING_CLOSED'
  /** The file system refused an operation (permissions, I/O error…); nothing acknowledged was lost. */
  | 'STAGING_IO'
  /**
   * The location's file system has no room left (`ENOSPC`, `EDQUOT`): what was flushed is kept,
   * and a writer opened once there is room again resumes from it.
   */
  | 'STAGING_FULL'
  // Staging volumes (see the README, "Staging format, version 1").
  /** The volume's first 4 KiB are not a valid superblock. */
  | 'VOLUME_BAD_SUPERBLOCK'
  /** The volume belongs to another staging location, or has another number than expected. */
  | 'VOLUME_FOREIGN'
  /** The volume is shorter than its structures say, or not a whole number of MiB plus the footer. */
  | 'VOLUME_TRUNCATED'
  /** The volume has no valid VHD footer or trailer: it is not sealed, or its end is damaged. */
  | 'VOLUME_NOT_SEALED'
  /** The trailer is damaged or points at sections outside the volume. */
  | 'VOLUME_BAD_TRAILER'
  /** The block checksum table does not match the trailer. */
  | 'VOLUME_BAD_CHECKSUM_TABLE'
  /** The index is damaged: unsorted, duplicated, or pointing outside the records. */
  | 'VOLUME_BAD_INDEX'
  /** The catalog section is not the JSON the trailer promises. */
  | 'VOLUME_BAD_CATALOG'
  /** A record's header or CRC does not match (bit flip or torn write). */
  | 'VOLUME_BAD_RECORD'
  /** Damage in the middle of an unsealed volume, before data a flush acknowledged: not a torn tail. */
  | 'VOLUME_CORRUPT'
  /** A volume was written out of order: a put after sealing, or a sealed volume opened for writing. */
  | 'VOLUME_WRITER_STATE'
  /** The file is shorter than a VHD's structures say it must be (a footer, header, BAT or block is cut off). */
  | 'VHD_TRUNCATED'
  /** A footer or dynamic-disk header lacks its cookie (`conectix`, `cxsparse`): not a VHD, or overwritten. */
  | 'VHD_BAD_COOKIE'
  /** A footer or header checksum does not match its bytes. */
  | 'VHD_BAD_CHECKSUM'
  /** A format version this library does not know (footer or header version other than 1.x). */
  | 'VHD_UNSUPPORTED_VERSION'
  /** A disk type other than fixed (2), dynamic (3) or differencing (4). */
  | 'VHD_UNSUPPORTED_TYPE'
  /** A declared size is impossible: not a multiple of 512, beyond the limits, or disagreeing with the file. */
  | 'VHD_BAD_SIZE'
  /** A dynamic-disk header field is invalid (block size, table offset, entry count). */
  | 'VHD_BAD_HEADER'
  /** The footer copy at offset 0 differs from the trailing footer, or one of them is damaged. */
  | 'VHD_FOOTER_MISMATCH'
  /** The trailing footer is the 511-byte form of pre-2004 tools. */
  | 'VHD_SHORT_FOOTER'
  /** A BAT entry points outside the file or onto the footer, header, BAT or locator data. */
  | 'VHD_BAT_OUT_OF_RANGE'
  /** Two BAT entries point at overlapping blocks. */
  | 'VHD_BAT_OVERLAP'
  /** A parent locator entry points outside the file or holds undecodable data. */
  | 'VHD_BAD_LOCATOR'
  /** No parent of a differencing disk was found through its locators, its parent name or the caller. */
  | 'VHD_PARENT_NOT_FOUND'
  /** The parent found has another unique id (or size) than the differencing disk expects. */
  | 'VHD_PARENT_MISMATCH'
  /** A differencing chain is deeper than the limit, or loops. */
  | 'VHD_CHAIN_TOO_DEEP'
  /** A file breaks an Azure page-blob rule (see `azureCompatibility`). */
  | 'VHD_NOT_AZURE_COMPATIBLE'
  /** A merge journal is damaged, or belongs to other files. */
  | 'VHD_BAD_JOURNAL'
  /** A merge was interrupted: its journal must be recovered before the parent is written again. */
  | 'VHD_MERGE_PENDING'
  /** A writer was used out of order: more data than the declared size, or a write after `finish()`. */
  | 'VHD_WRITER_STATE';

/** Where a {@link StagingFormatError} points: a byte offset and/or a file. */
export interface StagingFormatErrorDetails {
  /** Byte offset inside the file or source the error concerns. */
  offset?: number;
  /** Path of the file the error concerns. */
  path?: string;
  cause?: unknown;
}

/**
 * The one error class of `@offline-seed/staging-format`. Switch on {@link code}, which is stable;
 * the message is for people and may change.
 */
export class StagingFormatError extends Error {
  override readonly name = 'StagingFormatError';
  readonly code: StagingFormatErrorCode;
  readonly offset: number | undefined;
  readonly path: string | undefined;

  constructor(
    code: StagingFormatErrorCode,
    message: string,
    details: StagingFormatErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.offset = details.offset;
    this.path = details.path;
  }
}

/** True when `error` is a {@link StagingFormatError} (optionally with the given code), across realms. */
export function isStagingFormatError(
  error: unknown,
  code?: StagingFormatErrorCode,
): error is StagingFormatError {
  return (
    error instanceof Error &&
    error.name === 'StagingFormatError' &&
    (code === undefined || (error as StagingFormatError).code === code)
  );
}
