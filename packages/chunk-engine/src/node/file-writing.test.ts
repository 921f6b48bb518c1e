import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeWholeFileSync } from './file-writing.ts';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'file-writing-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const meta = { size: 5, mode: 0o640, mtimeSeconds: 1_600_000_000, overwrite: false };

describe('writeWholeFileSync', () => {
  it('writes the content with its mode and mtime, and zeros as a hole of the right length', async () => {
    const path = join(dir, 'a');
    writeWholeFileSync(path, new TextEncoder().encode('hello'), meta);
    const stat = await fs.stat(path);
    expect(await fs.readFile(path, 'utf8')).toBe('hello');
    expect(stat.mode & 0o777).toBe(0o640);
    expect(stat.mtimeMs).toBe(1_600_000_000_000);
    const zeros = join(dir, 'zeros');
    writeWholeFileSync(zeros, new Uint8Array(1 << 20), { ...meta, size: 1 << 20 });
    const holey = await fs.stat(zeros);
    expect(holey.size).toBe(1 << 20);
    expect(holey.blocks * 512).toBeLessThan(1 << 20);
  });

  it('refuses a wrong size before creating anything', () => {
    const path = join(dir, 'b');
    expect(() => writeWholeFileSync(path, new Uint8Array(4), meta)).toThrow(
      expect.objectContaining({ code: 'CATALOG_CORRUPT' }),
    );
    expect(existsSync(path)).toBe(false);
  });

  it('leaves an existing file alone unless told to overwrite it, and never follows a symlink', async () => {
    const path = join(dir, 'c');
    await fs.writeFile(path, 'keep me');
    const bytes = new TextEncoder().encode('hello');
    expect(() => writeWholeFileSync(path, bytes, meta)).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(await fs.readFile(path, 'utf8')).toBe('keep me');
    writeWholeFileSync(path, bytes, { ...meta, overwrite: true });
    expect(await fs.readFile(path, 'utf8')).toBe('hello');
    const target = join(dir, 'target');
    await fs.writeFile(target, 'untouched');
    await fs.symlink(target, join(dir, 'link'));
    expect(() => writeWholeFileSync(join(dir, 'link'), bytes, meta)).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(await fs.readFile(target, 'utf8')).toBe('untouched');
  });
});
