import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../../test/tree.ts';
import { runCli } from '../cli.ts';
import { memoryIo } from '../test-io.ts';

const fixture = new URL('../../../../../shared/fixtures/SekienAkashita.jpg', import.meta.url)
  .pathname;

describe('offline-seed chunk', () => {
  it('prints the cuts of the fastcdc crate vectors as JSON', async () => {
    const io = memoryIo();
    const code = await runCli(
      ['chunk', fixture, '--min', '4096', '--avg', '16KiB', '--max', '65535', '--json'],
      { io },
    );
    expect(code).toBe(0);
    const report = JSON.parse(io.out);
    expect(
      report.chunks.map((c: { offset: number; length: number; hash: string }) => [
        c.offset,
        c.length,
        c.hash,
      ]),
    ).toEqual([
      [0, 21325, '17968276318003433923'],
      [21325, 17140, '8197189939299398838'],
      [38465, 28084, '13019990849178155730'],
      [66549, 18217, '4509236223063678303'],
      [84766, 24700, '2504464741100432583'],
    ]);
    expect(report.chunks[0].sha256).toBe(
      '695429afe5937d6c75099f6e587267065a64e9dd83596a3d7386df3ef5a792c2',
    );
    expect(report.summary).toMatchObject({
      count: 5,
      bytes: 109466,
      uniqueChunks: 5,
      minLength: 17140,
      maxLength: 28084,
    });
    expect(report.params).toEqual({
      minSize: 4096,
      avgSize: 16384,
      maxSize: 65535,
      level: 1,
      seed: '0',
    });
  });

  it('prints a table for people and takes level, seed and a lone --avg', async () => {
    const io = memoryIo();
    expect(
      await runCli(['chunk', fixture, '--avg', '8KiB', '--level', '3', '--seed', '0x2a'], { io }),
    ).toBe(0);
    expect(io.out).toContain('FastCDC 2020, min 4096, avg 8192, max 65536, level 3, seed 42');
    expect(io.out).toMatch(/\d+ chunks, 109466 bytes/);
  });

  it('counts repeated chunks once in the unique totals', async () => {
    const dir = await scratchDir('chunk-cli');
    const file = join(dir, 'zeros');
    writeFileSync(file, new Uint8Array(10240));
    const io = memoryIo();
    await runCli(['chunk', file, '--min', '64', '--avg', '256', '--max', '1KiB', '--json'], { io });
    expect(JSON.parse(io.out).summary).toMatchObject({
      count: 10,
      uniqueChunks: 1,
      uniqueBytes: 1024,
    });
  });

  it('reports bad arguments as usage errors and a missing file with its path', async () => {
    for (const args of [
      ['chunk'],
      ['chunk', fixture, '--avg', 'big'],
      ['chunk', fixture, '--level', '4'],
      ['chunk', fixture, '--seed', '-1'],
      ['chunk', fixture, '--min', '64KiB', '--avg', '16KiB', '--max', '1MiB'],
      ['chunk', fixture, '--max', '32MiB'],
    ]) {
      const io = memoryIo();
      expect(await runCli(args, { io })).toBe(2);
      expect(io.err).toContain('error USAGE');
    }
    const io = memoryIo();
    expect(await runCli(['chunk', '/no/such/file', '--json'], { io })).toBe(1);
    expect(JSON.parse(io.err).error).toMatchObject({ code: 'ENOENT', path: '/no/such/file' });
  });
});
