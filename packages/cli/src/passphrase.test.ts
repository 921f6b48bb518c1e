import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { suiteScratchDir } from '../test/tree.ts';
import { readPassphrase } from './passphrase.ts';
import { memoryIo } from './test-io.ts';

describe('readPassphrase', async () => {
  const dir = await suiteScratchDir('passphrase');
  const file = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };

  it('reads one line from a file, dropping one trailing newline', async () => {
    const io = memoryIo({ OFFLINE_SEED_PASSPHRASE: 'from the environment' });
    expect(await readPassphrase(io, await file('a', 'secret words here\n'))).toBe(
      'secret words here',
    );
    expect(await readPassphrase(io, await file('b', ' spaces kept \r\n'))).toBe(' spaces kept ');
  });

  it('falls back to OFFLINE_SEED_PASSPHRASE, then to nothing', async () => {
    expect(
      await readPassphrase(memoryIo({ OFFLINE_SEED_PASSPHRASE: 'env words' }), undefined),
    ).toBe('env words');
    expect(
      await readPassphrase(memoryIo({ OFFLINE_SEED_PASSPHRASE: '' }), undefined),
    ).toBeUndefined();
    expect(await readPassphrase(memoryIo(), undefined)).toBeUndefined();
  });

  it('refuses missing, empty and multi-line files without quoting them', async () => {
    const io = memoryIo();
    for (const path of [
      join(dir, 'missing'),
      await file('empty', ''),
      await file('newline', '\n'),
      await file('lines', 'first line secret\nsecond line secret\n'),
    ]) {
      const error = await readPassphrase(io, path).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'PASSPHRASE_UNREADABLE', path });
      expect((error as Error).message).not.toContain('secret');
    }
  });
});
