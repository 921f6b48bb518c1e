import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError } from './errors.ts';
import type { Io } from './io.ts';

/** Environment variable a passphrase may come from when no passphrase file is given. */
export const passphraseVariable = 'OFFLINE_SEED_PASSPHRASE';

/**
 * The passphrase from `file` (its first line; one trailing newline is dropped), else from the
 * `OFFLINE_SEED_PASSPHRASE` environment variable, else `undefined`. Never from the command line,
 * where other users could read it in the process list. Errors never quote the passphrase.
 *
 * @throws {@link CliError} `PASSPHRASE_UNREADABLE` when the file cannot be read, is empty or has
 *   more than one line.
 */
export async function readPassphrase(
  io: Io,
  file: string | undefined,
): Promise<string | undefined> {
  if (file === undefined) {
    const value = io.env[passphraseVariable];
    return value === undefined || value === '' ? undefined : value;
  }
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      'PASSPHRASE_UNREADABLE',
      `cannot read the passphrase file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { path },
    );
  }
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '' || /[\r\n]/.test(passphrase)) {
    throw new CliError(
      'PASSPHRASE_UNREADABLE',
      `the passphrase file must hold the passphrase on one line, ${passphrase === '' ? 'it is empty' : 'it has several'}`,
      { path },
    );
  }
  return passphrase;
}
