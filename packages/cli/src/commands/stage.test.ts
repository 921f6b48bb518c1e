import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTree, passphrase, scratchDir } from '../../test/tree.ts';
import { runCli } from '../cli.ts';
import { memoryIo } from '../test-io.ts';

const env = { OFFLINE_SEED_PASSPHRASE: passphrase };

describe('offline-seed stage', () => {
  it('creates the location, then stages incrementally; --json prints the run', async () => {
    const dir = await scratchDir('cli-stage');
    const source = join(dir, 'source');
    await makeTree(source);
    const io = memoryIo(env);
    const staging = join(dir, 'staging');
    expect(
      await runCli(['stage', source, '--staging', staging, '--json', '--job-name', 'job1'], { io }),
    ).toBe(0);
    const first = JSON.parse(io.out);
    expect(first).toMatchObject({
      snapshotId: expect.stringMatching(/^[0-9a-f]{32}$/),
      parentId: null,
      files: 7,
      bytesRead: expect.any(Number),
      bytesStored: expect.any(Number),
      newChunks: expect.any(Number),
      dedupedChunks: expect.any(Number),
      volumes: 1,
      seconds: expect.any(Number),
      created: true,
      skipped: [],
    });
    // The second copy of random.bin is stored once.
    expect(first.dedupedChunks).toBeGreaterThanOrEqual(1);
    const descriptor = JSON.parse(await fs.readFile(join(staging, 'staging.json'), 'utf8'));
    expect(descriptor.job).toEqual({ jobName: 'job1' });
    expect(JSON.stringify(descriptor)).not.toContain(passphrase);

    const again = memoryIo(env);
    expect(await runCli(['stage', source, '--staging', staging], { io: again })).toBe(0);
    expect(again.out).toMatch(/snapshot [0-9a-f]{8} \(incremental on [0-9a-f]{8}\)/);
    expect(again.out).toMatch(/files\s+7 \(7 unchanged, 0 skipped\)/);
    expect(again.err).toBe('');
  });

  it('reads the passphrase from a file, and never prints it', async () => {
    const dir = await scratchDir('cli-stage-file');
    await makeTree(join(dir, 'source'));
    await fs.writeFile(join(dir, 'pass'), `${passphrase}\n`);
    const io = memoryIo();
    const argv = ['stage', 'source', '--staging', 'staging', '--passphrase-file', 'pass'];
    const code = await runCli(argv, { io: Object.assign(io, { cwd: dir }) });
    expect(code).toBe(0);
    // A wrong passphrase from the environment: exit 1, the passphrase not echoed.
    const wrong = memoryIo({ OFFLINE_SEED_PASSPHRASE: 'this is not the right one' });
    expect(
      await runCli(['stage', 'source', '--staging', 'staging', '--json'], {
        io: Object.assign(wrong, { cwd: dir }),
      }),
    ).toBe(1);
    expect(JSON.parse(wrong.err).error).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(wrong.err + io.out + io.err).not.toContain('right one');
    expect(io.out + io.err).not.toContain(passphrase);
    // A new location refuses a short passphrase, with a code, and creates nothing.
    const short = memoryIo({ OFFLINE_SEED_PASSPHRASE: 'short one' });
    const argv2 = ['stage', 'source', '--staging', 'other', '--json'];
    expect(await runCli(argv2, { io: Object.assign(short, { cwd: dir }) })).toBe(1);
    expect(JSON.parse(short.err).error).toMatchObject({ code: 'WEAK_PASSPHRASE' });
    expect(short.err).not.toContain('short one');
    await expect(fs.stat(join(dir, 'other', 'staging.json'))).rejects.toThrow();
  });

  it('takes the compression level, seal threads and files read at once', async () => {
    const dir = await scratchDir('cli-stage-tuning');
    const source = join(dir, 'source');
    await makeTree(source);
    const staging = join(dir, 'staging');
    const tuned = ['--workers', '0', '--concurrency', '2', '--compression-level', '1'];
    const io = memoryIo(env);
    expect(await runCli(['stage', source, '--staging', staging, ...tuned], { io })).toBe(0);
    const descriptor = JSON.parse(await fs.readFile(join(staging, 'staging.json'), 'utf8'));
    expect(descriptor.chunker).toMatchObject({ compression: 'zstd', compressionLevel: 1 });
    // The level is the location's: a later run that asks for another is told so.
    const later = memoryIo(env);
    const args = ['stage', source, '--staging', staging, '--compression-level', '9'];
    expect(await runCli(args, { io: later })).toBe(0);
    expect(later.err).toContain('--compression-level applies when a location is created');
    const after = JSON.parse(await fs.readFile(join(staging, 'staging.json'), 'utf8'));
    expect(after.chunker.compressionLevel).toBe(1);
  });

  it('rejects bad command lines and a missing passphrase with exit 2', async () => {
    const dir = await scratchDir('cli-stage-usage');
    const cases: Array<[string[], string]> = [
      [['stage', '--staging', dir], 'expected SOURCE'],
      [['stage', dir], '--staging is required'],
      [['stage', dir, dir, '--staging', dir], 'expected SOURCE'],
      [['stage', dir, '--staging', join(dir, 's'), '--max-volume-size', 'huge'], 'max-volume-size'],
      [['stage', dir, '--staging', join(dir, 's'), '--passphrase', 'x'], 'Unknown option'],
      [['stage', dir, '--staging', dir, '--workers=-1'], '--workers expected an integer from 0'],
      [['stage', dir, '--staging', dir, '--concurrency', '0'], '--concurrency expected'],
      [['stage', dir, '--staging', dir, '--compression-level', '3.5'], '--compression-level'],
      [['stage', dir, '--staging', dir, '--compression-level', '20'], 'from 1 to 19'],
    ];
    for (const [argv, message] of cases) {
      const io = memoryIo();
      expect(await runCli(argv, { io }), argv.join(' ')).toBe(2);
      expect(io.err).toContain(message);
    }
    await fs.mkdir(join(dir, 'src'));
    const io = memoryIo();
    expect(await runCli(['stage', join(dir, 'src'), '--staging', join(dir, 's')], { io })).toBe(2);
    expect(io.err).toContain('PASSPHRASE_REQUIRED');
  });

  it('stages without encryption when asked, and exits 3 naming skipped paths', async () => {
    const dir = await scratchDir('cli-stage-plain');
    const source = join(dir, 'source');
    await makeTree(source);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(source, 'a-fifo')]);
    const io = memoryIo();
    const code = await runCli(['stage', source, '--staging', join(dir, 's'), '--no-encryption'], {
      io,
    });
    expect(code).toBe(3);
    expect(io.err).toMatch(/warning: skipped a-fifo: .* \(FILE_UNSUPPORTED\)/);
  });
});
