/** Stable error codes of {@link DrivePrepError}. */
export type DrivePrepErrorCode =
  /** The volumes do not fit on the drives given (after the capacity reserve), or need more than 10. */
  | 'PLAN_DOES_NOT_FIT'
  /** A copied range's MD5 differs from the one computed at the source. */
  | 'COPY_HASH_MISMATCH'
  /** A DriveManifest.xml is not well formed or breaks the format's rules. */
  | 'MANIFEST_INVALID'
  /** The copy journal is unreadable or belongs to another plan. */
  | 'JOURNAL_INVALID'
  /** A BitLocker recovery key is not 48 digits in 8 groups, each a multiple of 11. */
  | 'BITLOCKER_KEY_INVALID';

/** The one error class of `@offline-seed/drive-prep`. Never carries BitLocker keys or account keys. */
export class DrivePrepError extends Error {
  override readonly name = 'DrivePrepError';
  readonly code: DrivePrepErrorCode;
  /** Drive serial number (`DriveId`) concerned, when there is one. */
  readonly driveId: string | undefined;
  /** File concerned, when there is one. */
  readonly path: string | undefined;
  /** Byte offset within {@link path}, when there is one. */
  readonly offset: number | undefined;

  constructor(
    code: DrivePrepErrorCode,
    message: string,
    where: { driveId?: string; path?: string; offset?: number; cause?: unknown } = {},
  ) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    this.driveId = where.driveId;
    this.path = where.path;
    this.offset = where.offset;
  }
}
