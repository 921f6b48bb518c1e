import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';
import { compareTrees } from '../src/demo/compare-trees.ts';
import { changeSampleTree, writeSampleTree } from '../src/demo/sample-tree.ts';
import { memoryIo } from '../src/test-io.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'demo-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('offline-seed demo', () => {
  it('runs the flow end to end and reports a bit-exact restore', async () => {
    const io = memoryIo();
    const code = await runCli(['demo', '--json', '--dir', join(dir, 'run')], { io });
    expect(io.err).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(io.out);
    expect(report.full.files).toBeGreaterThan(100);
    // One media file is stored twice in the tree, and text compresses: far less is stored than read.
    expect(report.full.bytesStored).toBeLessThan(report.full.bytesRead * 0.5);
    expect(report.volumes.length).toBeGreaterThan(0);
    expect(report.volumes.every((v: { azureProblems: number }) => v.azureProblems === 0)).toBe(
      true,
    );
    expect(report.incremental.bytesRead).toBeLessThan(1024 * 1024);
    expect(report.verify.ok).toBe(true);
    expect(report.restore.differences).toEqual([]);
    expect(JSON.stringify(report)).not.toMatch(/passphrase/i);
  }, 120_000);
});

describe('compareTrees', () => {
  it('finds changed contents, times, and missing or extra entries', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await writeSampleTree(a);
    execFileSync('cp', ['-a', a, b]);
    expect(await compareTrees(a, b)).toEqual([]);
    await changeSampleTree(b);
    await writeFile(join(b, 'media', 'photo.raw'), 'x');
    await utimes(join(b, 'vm', 'disk.img'), 1, 1);
    const differences = await compareTrees(a, b);
    expect(differences).toEqual(
      expect.arrayContaining([
        'docs/note-002.txt: content differs',
        'docs/note-007.txt: missing',
        'docs/note-new.txt: not in the original',
        'media/photo.raw: content differs',
        'vm/disk.img: mtimeMs differs',
      ]),
    );
  });
});
