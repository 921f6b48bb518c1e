import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Differences between two directory trees: type, permission bits, mtime (to the millisecond),
 * content and symlink targets. Empty when `restored` is a bit-exact copy of `original`.
 */
export async function compareTrees(original: string, restored: string): Promise<string[]> {
  const differences: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const [left, right] = await Promise.all([
      describe(join(original, relative)),
      describe(join(restored, relative)),
    ]);
    const label = relative === '' ? '/' : relative;
    if (right === undefined) {
      differences.push(`${label}: missing`);
      return;
    }
    for (const key of ['type', 'mode', 'mtimeMs', 'content'] as const) {
      // The root is the restore target itself, created before its contents.
      if (key === 'mtimeMs' && relative === '') continue;
      if (left![key] !== right[key]) differences.push(`${label}: ${key} differs`);
    }
    if (left!.type !== 'dir' || right.type !== 'dir') return;
    const [names, restoredNames] = await Promise.all([
      readdir(join(original, relative)),
      readdir(join(restored, relative)),
    ]);
    for (const extra of restoredNames.filter((name) => !names.includes(name))) {
      differences.push(`${join(relative, extra)}: not in the original`);
    }
    for (const name of names.sort()) await walk(join(relative, name));
  };
  await walk('');
  return differences;
}

async function describe(path: string) {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return undefined;
  const type = stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : 'file';
  const content =
    type === 'file'
      ? createHash('sha256')
          .update(await readFile(path))
          .digest('hex')
      : type === 'symlink'
        ? await readlink(path)
        : '';
  // Symlink modes and times are not portable (lchmod, lutimes), so only their targets count.
  return {
    type,
    mode: type === 'symlink' ? 0 : stats.mode & 0o7777,
    mtimeMs: type === 'symlink' ? 0 : Math.floor(stats.mtimeMs),
    content,
  };
}
