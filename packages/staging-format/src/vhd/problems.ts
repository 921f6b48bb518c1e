import { StagingFormatError, type StagingFormatErrorCode } from '../errors.ts';

/**
 * One thing wrong with a VHD. `severity: 'error'` makes data unreadable or wrong (opening refuses
 * the file); `'warning'` is a defect readers work around (a damaged footer copy, a 511-byte footer).
 */
export interface VhdProblem {
  code: StagingFormatErrorCode;
  message: string;
  /** Byte offset in the file the problem concerns, where there is one. */
  offset?: number;
  severity: 'error' | 'warning';
}

/** Hostile files could yield one problem per BAT entry: the list stops after this many. */
const MAX_PROBLEMS = 200;

/** Collects problems while a file is analysed; `fail` stops the analysis with a typed error. */
export class Diagnostics {
  readonly problems: VhdProblem[] = [];
  readonly path: string | undefined;

  constructor(path?: string) {
    this.path = path;
  }

  add(
    severity: VhdProblem['severity'],
    code: StagingFormatErrorCode,
    message: string,
    offset?: number,
  ): void {
    if (this.problems.length > MAX_PROBLEMS) {
      // The closing entry stands for everything left out: an error among them makes it an error.
      const summary = this.problems[MAX_PROBLEMS]!;
      if (severity === 'error' && summary.severity !== 'error')
        this.problems[MAX_PROBLEMS] = { ...summary, code, severity };
      return;
    }
    if (this.problems.length === MAX_PROBLEMS) {
      // One last entry says the list is cut, with the severity of what was left out.
      this.problems.push({
        code,
        message: `more than ${MAX_PROBLEMS} problems; the rest are not listed`,
        severity,
      });
      return;
    }
    this.problems.push(
      offset === undefined ? { code, message, severity } : { code, message, offset, severity },
    );
  }

  error(code: StagingFormatErrorCode, message: string, offset?: number): void {
    this.add('error', code, message, offset);
  }

  warn(code: StagingFormatErrorCode, message: string, offset?: number): void {
    this.add('warning', code, message, offset);
  }

  /** Stops the analysis: the file cannot be understood past this point. */
  fail(code: StagingFormatErrorCode, message: string, offset?: number): never {
    throw this.toError({
      code,
      message,
      severity: 'error',
      ...(offset === undefined ? {} : { offset }),
    });
  }

  firstError(): VhdProblem | undefined {
    return this.problems.find((problem) => problem.severity === 'error');
  }

  toError(problem: VhdProblem): StagingFormatError {
    return new StagingFormatError(problem.code, problem.message, {
      ...(problem.offset === undefined ? {} : { offset: problem.offset }),
      ...(this.path === undefined ? {} : { path: this.path }),
    });
  }
}

/** A {@link StagingFormatError} as a problem entry (for checks that report rather than throw). */
export function problemFromError(error: StagingFormatError): VhdProblem {
  return {
    code: error.code,
    message: error.message,
    ...(error.offset === undefined ? {} : { offset: error.offset }),
    severity: 'error',
  };
}
