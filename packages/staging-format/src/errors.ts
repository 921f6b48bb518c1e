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
  | 'SOURCE_IO';

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
