// Reading option values and positional arguments, shared by every command: one wording for usage
// errors, one size syntax.
import type { CommandContext, OptionValues } from './command.ts';
import { CliError } from './errors.ts';

/** A usage error for `offline-seed <command>`, ending with where to find the command's help. */
export function usage(command: string, message: string): CliError {
  return new CliError('USAGE', `${message}\nRun "offline-seed ${command} --help" for usage.`);
}

/** The value of a string option, or undefined when it was not given. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The value of a required string option, or a usage error naming the command. */
export function requiredOption(values: OptionValues, name: string, command: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw usage(command, `--${name} is required`);
  return value;
}

/** The positional arguments, when exactly `names.length` were given; a usage error otherwise. */
export function expectPositionals(
  context: CommandContext,
  names: readonly string[],
  command: string,
): string[] {
  const given = context.positionals;
  if (given.length !== names.length) {
    const expected = names.length === 0 ? 'no arguments' : names.join(' ');
    throw usage(
      command,
      `expected ${expected}, got ${given.length === 0 ? 'nothing' : given.join(' ')}`,
    );
  }
  return given;
}

const sizeUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * Parses a positive size: bytes (`4096`) or binary units (`64KiB`, `1.5 GiB`, `8M`), which must come
 * to a whole number of bytes. Throws a usage error naming `--option` otherwise.
 */
export function parseSize(text: string, option: string, command: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match === null ? undefined : sizeUnits[match[2]!.toLowerCase()];
  const bytes = match === null || unit === undefined ? Number.NaN : Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw usage(
      command,
      `--${option} expected a size in bytes or with a KiB, MiB, GiB or TiB suffix, got "${text}"`,
    );
  return bytes;
}

/**
 * The value of an integer option within `[min, max]`, or undefined when it was not given. Throws a
 * usage error naming `--option` otherwise.
 */
export function integerOption(
  values: OptionValues,
  name: string,
  command: string,
  [min, max]: readonly [number, number],
): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = /^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw usage(command, `--${name} expected an integer from ${min} to ${max}, got "${text}"`);
  return value;
}
