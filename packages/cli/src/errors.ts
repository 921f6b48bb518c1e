/** Stable error codes of {@link CliError}. */
export type CliErrorCode =
  /** The command line is wrong: unknown command or option, missing or malformed value. */
  | 'USAGE'
  /** The command exists in the command tree but is not part of this release yet. */
  | 'NOT_AVAILABLE'
  /** The run was interrupted (Ctrl-C) after writing what it had flushed. */
  | 'INTERRUPTED';

const exitCodes: Record<CliErrorCode, number> = { USAGE: 2, NOT_AVAILABLE: 2, INTERRUPTED: 130 };

/** The one error class of `@offline-seed/cli`; its exit code follows from its code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  readonly exitCode: number;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCodes[code];
  }
}
