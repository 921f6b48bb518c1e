import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes of the regular files under `dir` (symlinks not followed, unreadable parts skipped): the
 * total that progress and ETA are measured against. Runs alongside the backup; it only stats.
 */
export async function sizeOfTree(dir: string, abortSignal?: AbortSignal): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    abortSignal?.throwIfAborted();
    const current = pending.pop()!;
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    const sizes = await Promise.all(
      entries.map(async (entry) => {
        const path = join(current, entry.name);
        if (entry.isDirectory()) pending.push(path);
        if (!entry.isFile()) return 0;
        return (await lstat(path).catch(() => undefined))?.size ?? 0;
      }),
    );
    for (const size of sizes) total += size;
  }
  return total;
}
