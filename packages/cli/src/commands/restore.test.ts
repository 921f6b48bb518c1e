import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectSameTree, makeTree, passphrase, suiteScratchDir } from '../../test/tree.ts';
import { runCli } from '../cli.ts';
import { memoryIo } from '../test-io.ts';

const env = { OFFLINE_SEED_PASSPHRASE: passphrase };

describe('offline-seed restore and snapshots', async () => {
  const dir = await suiteScratchDir('cli-restore');
  const source = join(dir, 'source');
  const staging = join(dir, 'staging');
  await makeTree(source);
  await runCli(['stage', source, '--staging', staging], { io: memoryIo(env) });
  await fs.writeFile(join(source, 'docs/later.txt'), 'added later\n');
  await runCli(['stage', source, '--staging', staging], { io: memoryIo(env) });

  it('lists snapshots as a table and as JSON, without a passphrase', async () => {
    const io = memoryIo();
    expect(await runCli(['snapshots', '--staging', staging], { io })).toBe(0);
    const lines = io.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TIME\s+FILES\s+SIZE\s+STORED\s+NEW BLOBS\s+PARENT\s+VOLUME$/);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^[0-9a-f]{8} {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+8\s/);
    const json = memoryIo();
    await runCli(['snapshots', '--staging', staging, '--json'], { io: json });
    const snapshots = JSON.parse(json.out);
    expect(snapshots).toHaveLength(2);
    expect(snapshots[1]).toMatchObject({ parentId: snapshots[0].id, stats: { files: 8 } });
  });

  it('restores the latest snapshot bit-exact, and a subtree of an older one', async () => {
    const io = memoryIo(env);
    const target = join(dir, 'latest');
    expect(
      await runCli(['restore', '--staging', staging, '--target', target, '--json'], { io }),
    ).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ files: 8, symlinks: 2, failed: [] });
    await expectSameTree(target, source);

    const list = memoryIo();
    await runCli(['snapshots', '--staging', staging, '--json'], { io: list });
    const first = JSON.parse(list.out)[0].id as string;
    const part = join(dir, 'part');
    const partIo = memoryIo(env);
    const argv = [
      'restore',
      '--staging',
      staging,
      '--target',
      part,
      '--snapshot',
      first.slice(0, 6),
      '--path',
      'docs',
    ];
    expect(await runCli(argv, { io: partIo })).toBe(0);
    expect((await fs.readdir(part)).sort()).toEqual(['empty', 'empty.txt', 'readme.txt']);
    expect(partIo.out).toContain(`restored snapshot ${first.slice(0, 8)} (docs)`);
  });

  it('fails clearly: non-empty target, unknown snapshot, missing location, missing options', async () => {
    const cases: Array<[string[], number, string]> = [
      [['restore', '--staging', staging, '--target', source], 1, 'TARGET_NOT_EMPTY'],
      [
        ['restore', '--staging', staging, '--target', join(dir, 'n'), '--snapshot', 'abcdef99'],
        1,
        'SNAPSHOT_NOT_FOUND',
      ],
      [
        ['restore', '--staging', join(dir, 'none'), '--target', join(dir, 'n')],
        1,
        'STAGING_NOT_A_LOCATION',
      ],
      [['restore', '--staging', staging], 2, '--target is required'],
      [['snapshots'], 2, '--staging is required'],
      [['snapshots', '--staging', join(dir, 'none')], 1, 'STAGING_NOT_A_LOCATION'],
    ];
    for (const [argv, exit, message] of cases) {
      const io = memoryIo(env);
      expect(await runCli(argv, { io }), argv.join(' ')).toBe(exit);
      expect(io.err).toContain(message);
    }
  });
});
