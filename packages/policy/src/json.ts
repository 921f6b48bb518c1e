import { PolicyError, type PolicyErrorCode } from './errors.ts';

/**
 * Parses `input` when it is JSON text; passes other values through, so readers take either a
 * file's text or an already parsed value.
 * @throws {PolicyError} with `code` when the text is not JSON.
 */
export function jsonInput(input: unknown, code: PolicyErrorCode, what: string): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new PolicyError(code, `${what} is not valid JSON: ${reason}`, { cause });
  }
}
