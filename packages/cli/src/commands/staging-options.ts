// Options that stage, snapshots, restore and verify share.
import type { CommandContext, OptionSpec } from '../command.ts';
import { stringOption } from '../options.ts';
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

/** The passphrase from `--passphrase-file` or the environment. */
export function passphraseOf(context: CommandContext): Promise<string | undefined> {
  return readPassphrase(context.io, stringOption(context.values, 'passphrase-file'));
}
