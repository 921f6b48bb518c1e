import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTree, scratchDir } from '../../test/tree.ts';
import { sizeOfTree } from './source-size.ts';

describe('sizeOfTree', () => {
  it('adds up regular files only (symlinks not followed)', async () => {
    const root = join(await scratchDir('size'), 'tree');
    await makeTree(root, { bigFileBytes: 10_000 });
    await fs.symlink(join(root, 'data'), join(root, 'data-again'));
    // readme 1900 + empty 0 + random 10000 + copy 10000 + small 1000 + sparse 2 MiB + run.sh 18
    expect(await sizeOfTree(root)).toBe(1900 + 10_000 + 10_000 + 1000 + 2 * 1024 * 1024 + 18);
  });

  it('stops when aborted', async () => {
    const root = await scratchDir('size-abort');
    await expect(sizeOfTree(root, AbortSignal.abort())).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
