// Test trees: build a directory with every kind of entry stage must keep, and compare two trees.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, onTestFinished } from 'vitest';

export const passphrase = 'a test passphrase of enough length';
/** A cheap KDF for tests that create many locations (never for real data). */
export const testScrypt = { N: 1024, r: 8, p: 1 };

/** A fresh directory under the OS temp folder, removed when the calling test ends. */
export function scratchDir(prefix: string): Promise<string> {
  return makeScratchDir(prefix, onTestFinished);
}

/** A fresh directory shared by the tests of a `describe` block, removed after the last of them. */
export function suiteScratchDir(prefix: string): Promise<string> {
  return makeScratchDir(prefix, afterAll);
}

function makeScratchDir(prefix: string, onEnd: (cleanup: () => Promise<void>) => void) {
  const dir = fs.mkdtemp(join(tmpdir(), `offline-seed-${prefix}-`));
  // Registered at once, while the test or suite that asked is still the one being collected.
  onEnd(async () => fs.rm(await dir, { recursive: true, force: true }));
  return dir;
}

/** Files of several sizes (empty, small, multi-chunk, sparse), modes, a symlink, empty dirs. */
export async function makeTree(root: string, options: { bigFileBytes?: number } = {}) {
  const big = options.bigFileBytes ?? 3 * 1024 * 1024;
  await fs.mkdir(join(root, 'docs/empty'), { recursive: true });
  await fs.mkdir(join(root, 'data/nested/deeper'), { recursive: true });
  await fs.writeFile(join(root, 'docs/readme.txt'), 'hello offline seed\n'.repeat(100));
  await fs.writeFile(join(root, 'docs/empty.txt'), '');
  await fs.writeFile(join(root, 'data/random.bin'), randomBytes(big));
  await fs.writeFile(
    join(root, 'data/nested/copy.bin'),
    await fs.readFile(join(root, 'data/random.bin')),
  );
  await fs.writeFile(join(root, 'data/nested/deeper/small.bin'), randomBytes(1000));
  // Mostly zeros: restore keeps it sparse; it must still compare equal.
  const sparse = new Uint8Array(2 * 1024 * 1024);
  sparse.set(randomBytes(100), 1024 * 1024);
  await fs.writeFile(join(root, 'data/sparse.img'), sparse);
  await fs.chmod(join(root, 'data/nested/deeper/small.bin'), 0o600);
  await fs.writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await fs.chmod(join(root, 'run.sh'), 0o755);
  await fs.symlink('docs/readme.txt', join(root, 'link-to-readme'));
  await fs.symlink('does/not/exist', join(root, 'dangling'));
  await setWholeSecondTimes(root);
}

/** Whole-second mtimes everywhere, so that comparisons are exact on every file system. */
export async function setWholeSecondTimes(root: string, base = 1_700_000_000): Promise<void> {
  let n = 0;
  const visit = async (path: string): Promise<void> => {
    const stat = await fs.lstat(path);
    if (stat.isDirectory()) {
      for (const name of (await fs.readdir(path)).sort()) await visit(join(path, name));
    }
    const time = base + n++ * 61;
    await fs.lutimes(path, time, time);
  };
  await visit(root);
}

interface Entry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtimeMs: number;
  content?: string;
}

/** Every entry under `root` by relative path: type, permission bits, mtime, content or target. */
export async function describeTree(root: string): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  const visit = async (path: string, relative: string): Promise<void> => {
    const stat = await fs.lstat(path);
    const base = { mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs };
    if (stat.isSymbolicLink()) {
      out[relative] = { type: 'symlink', ...base, content: await fs.readlink(path) };
    } else if (stat.isDirectory()) {
      if (relative !== '') out[relative] = { type: 'dir', ...base };
      for (const name of (await fs.readdir(path)).sort())
        await visit(join(path, name), relative === '' ? name : `${relative}/${name}`);
    } else {
      const bytes = await fs.readFile(path);
      const { createHash } = await import('node:crypto');
      out[relative] = {
        type: 'file',
        ...base,
        content: `${bytes.length}:${createHash('sha256').update(bytes).digest('hex')}`,
      };
    }
  };
  await visit(root, '');
  return out;
}

/**
 * Asserts that `restored` holds exactly what `source` holds: contents, modes, links, and mtimes
 * to the microsecond (Node sets times from a double: nanoseconds are not representable).
 */
export async function expectSameTree(restored: string, source: string): Promise<void> {
  const [actual, expected] = [await describeTree(restored), await describeTree(source)];
  const withoutTimes = (tree: Record<string, Entry>) =>
    Object.fromEntries(Object.entries(tree).map(([path, { mtimeMs: _, ...rest }]) => [path, rest]));
  expect(withoutTimes(actual)).toEqual(withoutTimes(expected));
  for (const [path, entry] of Object.entries(expected)) {
    const drift = Math.abs(actual[path]!.mtimeMs - entry.mtimeMs);
    expect(drift, `mtime of ${path}`).toBeLessThanOrEqual(0.001);
  }
}
