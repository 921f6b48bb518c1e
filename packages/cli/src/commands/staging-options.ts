// Options and argument checks that stage, snapshots, restore and verify share.
import type { CommandContext, OptionSpec } from '../command.ts';
import { CliError } from '../errors.ts';
import { passphraseVariable, readPassphrase } from '../passphrase.ts';

export const stagingOption: OptionSpec = {
  type: 'string',
  valueName: 'DIR',
  description: 'Directory of the staging location',
};

export const passphraseFileOption: OptionSpec = {
  type: 'string',
  valueName: 'FILE',
  description: `File holding the passphrase (default: the ${passphraseVariable} environment variable)`,
};

export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The value of a required option, or a usage error naming the command. */
export function requiredOption(context: CommandContext, name: string, command: string): string {
  const value = stringOption(context, name);
  if (value === undefined || value === '') throw usage(`--${name} is required`, command);
  return value;
}

/** Checks that exactly `names.length` positional arguments were given. */
export function expectPositionals(context: CommandContext, names: string[], command: string): void {
  const given = context.positionals;
  if (given.length !== names.length) {
    const expected = names.length === 0 ? 'no arguments' : names.join(' ');
    throw usage(
      `expected ${expected}, got ${given.length === 0 ? 'nothing' : given.join(' ')}`,
      command,
    );
  }
}

/** The passphrase from `--passphrase-file` or the environment. */
export function passphraseOf(context: CommandContext): Promise<string | undefined> {
  return readPassphrase(context.io, stringOption(context, 'passphrase-file'));
}

export function usage(message: string, command: string): CliError {
  return new CliError('USAGE', `${message}\nRun "offline-seed ${command} --help" for usage.`);
}
