/** Stable error codes of {@link CliError}. */
export type CliErrorCode =
  /** The command line is wrong: unknown command or option, missing or malformed value. */
  | 'USAGE'
  /** The command exists in the command tree but is not part of this release yet. */
  | 'NOT_AVAILABLE'
  /** The run was interrupted (Ctrl-C) after writing what it had flushed. */
  | 'INTERRUPTED'
  /** An encrypted staging location was opened, or one is being created, without a passphrase. */
  | 'PASSPHRASE_REQUIRED'
  /** The passphrase file is missing, unreadable, empty, or more than one line. */
  | 'PASSPHRASE_UNREADABLE'
  /** The directory to stage is missing or not a directory. */
  | 'SOURCE_NOT_FOUND'
  /** A new staging location was to be created in a directory that already holds other files. */
  | 'STAGING_NOT_EMPTY'
  /** A staging location records chunker or compression parameters this version does not know. */
  | 'STAGING_BAD_PARAMETERS'
  /** No snapshot matches the id (or prefix) asked for, or the location holds none yet. */
  | 'SNAPSHOT_NOT_FOUND'
  /** A restore target already holds files (and overwriting was not asked for). */
  | 'TARGET_NOT_EMPTY'
  /** The Node.js running the command is older than the packages need. */
  | 'NODE_UNSUPPORTED';

const exitCodes: Record<CliErrorCode, number> = {
  USAGE: 2,
  NOT_AVAILABLE: 2,
  INTERRUPTED: 130,
  PASSPHRASE_REQUIRED: 2,
  PASSPHRASE_UNREADABLE: 2,
  SOURCE_NOT_FOUND: 1,
  STAGING_NOT_EMPTY: 1,
  STAGING_BAD_PARAMETERS: 1,
  SNAPSHOT_NOT_FOUND: 1,
  TARGET_NOT_EMPTY: 1,
  NODE_UNSUPPORTED: 1,
};

/** The one error class of `@offline-seed/cli`; its exit code follows from its code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  readonly exitCode: number;
  /** The file or directory the error concerns, when there is one. */
  readonly path: string | undefined;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown; path?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = exitCodes[code];
    this.path = options?.path;
  }
}
