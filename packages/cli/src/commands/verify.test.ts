import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTree, passphrase, scratchDir } from '../../test/tree.ts';
import { runCli } from '../cli.ts';
import { memoryIo } from '../test-io.ts';

const env = { OFFLINE_SEED_PASSPHRASE: passphrase };

describe('offline-seed verify', () => {
  it('reports an intact location, then names the damaged files with exit 1', async () => {
    const dir = await scratchDir('cli-verify');
    const staging = join(dir, 'staging');
    await makeTree(join(dir, 'source'));
    await runCli(['stage', join(dir, 'source'), '--staging', staging], { io: memoryIo(env) });

    const ok = memoryIo(env);
    expect(await runCli(['verify', '--staging', staging], { io: ok })).toBe(0);
    expect(ok.out).toMatch(/^volume 1: \d+ blocks, \d+ records: ok$/m);
    expect(ok.out).toMatch(/no problems found$/m);

    const volume = join(staging, 'volumes/000001.vhd');
    const handle = await fs.open(volume, 'r+');
    await handle.write(Buffer.from('XXXX'), 0, 4, 4096 + 2 * 1024 * 1024 + 100);
    await handle.close();

    const damaged = memoryIo(env);
    expect(await runCli(['verify', '--staging', staging], { io: damaged })).toBe(1);
    expect(damaged.out).toMatch(/volume 1: .*DAMAGED: 1 blocks, 1 records/);
    expect(damaged.out).toContain(':/data/random.bin:');
    expect(damaged.out).toContain('DAMAGE FOUND');
    const json = memoryIo(env);
    expect(await runCli(['verify', '--staging', staging, '--json'], { io: json })).toBe(1);
    const report = JSON.parse(json.out);
    expect(report.ok).toBe(false);
    expect(report.damagedFiles.map((f: { path: string }) => f.path).sort()).toEqual([
      'data/nested/copy.bin',
      'data/random.bin',
    ]);
  });

  it('reports a damaged transfer-hash sidecar', async () => {
    const dir = await scratchDir('cli-verify-sidecar');
    const staging = join(dir, 'staging');
    await makeTree(join(dir, 'source'));
    await runCli(['stage', join(dir, 'source'), '--staging', staging], { io: memoryIo(env) });
    await fs.appendFile(join(staging, 'volumes/000001.vhd.ranges.json'), ' ');
    const io = memoryIo(env);
    expect(await runCli(['verify', '--staging', staging], { io })).toBe(1);
    expect(io.out).toMatch(/^volume 1: transfer hashes DAMAGED: /m);
  });

  it('needs the passphrase of an encrypted location', async () => {
    const dir = await scratchDir('cli-verify-pass');
    await makeTree(join(dir, 'source'));
    await runCli(['stage', join(dir, 'source'), '--staging', join(dir, 's')], {
      io: memoryIo(env),
    });
    const io = memoryIo();
    expect(await runCli(['verify', '--staging', join(dir, 's')], { io })).toBe(2);
    expect(io.err).toContain('PASSPHRASE_REQUIRED');
  });
});
