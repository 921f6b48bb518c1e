// The library end to end, in process: stage → verify → restore, incremental runs, and the ways a
// run can go wrong (passphrases, locations, vanishing sources, damage, interruption).
import { promises as fs, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  listStagedSnapshots,
  restoreStagedSnapshot,
  type StageOptions,
  stageDirectory,
  verifyStaging,
} from '../src/index.ts';
import {
  expectSameTree,
  makeTree,
  passphrase,
  scratchDir,
  setWholeSecondTimes,
  testScrypt,
} from './tree.ts';

async function setup(prefix: string) {
  const dir = await scratchDir(prefix);
  const source = join(dir, 'source');
  const staging = join(dir, 'staging');
  await makeTree(source);
  const options: StageOptions = { staging, passphrase, scrypt: testScrypt, workers: 1 };
  return { dir, source, staging, options };
}

async function snapshotsOf(staging: string) {
  const all = [];
  for await (const snapshot of listStagedSnapshots(staging)) all.push(snapshot);
  return all;
}

describe('stage, verify, restore', () => {
  it('restores a staged tree bit-exact: contents, modes, mtimes, symlinks, empty dirs', async () => {
    const { dir, source, staging, options } = await setup('roundtrip');
    const staged = await stageDirectory(source, options);
    expect(staged.created).toBe(true);
    expect(staged.skipped).toEqual([]);
    expect(staged.stats).toMatchObject({ files: 7, symlinks: 2, unchangedFiles: 0 });
    expect(staged.snapshot.parentId).toBeUndefined();
    // The two copies of random.bin are stored once.
    expect(staged.stats.bytesStored).toBeLessThan(staged.stats.bytesRead - 3 * 1024 * 1024 + 65536);
    expect(staged.volumes.map((v) => v.state)).toEqual(['sealed']);

    const report = await verifyStaging({ staging, passphrase });
    expect(report).toMatchObject({ ok: true, damagedFiles: [], unsealed: undefined });
    expect(report.snapshots).toEqual([
      expect.objectContaining({ id: staged.snapshot.id, filesIntact: 7, damaged: 0 }),
    ]);

    const target = join(dir, 'restored');
    const restored = await restoreStagedSnapshot({ staging, target, passphrase });
    expect(restored.failed).toEqual([]);
    expect(restored.stats).toMatchObject({ files: 7, symlinks: 2 });
    await expectSameTree(target, source);
  });

  it('restores a subtree, a chosen snapshot, and refuses a non-empty target', async () => {
    const { dir, source, staging, options } = await setup('subtree');
    const first = await stageDirectory(source, options);
    await fs.rm(join(source, 'data'), { recursive: true });
    await stageDirectory(source, options);
    const target = join(dir, 'data-only');
    await restoreStagedSnapshot({
      staging,
      target,
      passphrase,
      snapshot: first.snapshot.id.slice(0, 8),
      path: 'data',
    });
    await expect(fs.readdir(target)).resolves.toEqual(['nested', 'random.bin', 'sparse.img']);
    await expect(
      restoreStagedSnapshot({ staging, target, passphrase, snapshot: first.snapshot.id }),
    ).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY', path: target });
    await expect(
      restoreStagedSnapshot({ staging, target: join(dir, 'x'), passphrase, path: 'data' }),
    ).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(
      restoreStagedSnapshot({ staging, target: join(dir, 'y'), passphrase, snapshot: 'ffffffff' }),
    ).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
  });

  it('stores an incremental snapshot: unchanged files unread, only changes stored', async () => {
    const { dir, source, staging, options } = await setup('incremental');
    const full = await stageDirectory(source, options);
    await fs.appendFile(join(source, 'docs/readme.txt'), 'one more line\n');
    await fs.rm(join(source, 'data/nested/deeper/small.bin'));
    await fs.writeFile(join(source, 'docs/new.txt'), 'new file\n');
    await fs.mkdir(join(source, 'docs/new-empty-dir'));
    await setWholeSecondTimes(join(source, 'docs'), 1_800_000_000);
    const incremental = await stageDirectory(source, options);
    expect(incremental.created).toBe(false);
    expect(incremental.snapshot.parentId).toBe(full.snapshot.id);
    // docs/ got new mtimes: its three files are read again; the four others are not.
    expect(incremental.stats).toMatchObject({ files: 7, unchangedFiles: 4 });
    expect(incremental.stats.bytesRead).toBeLessThan(4096);
    expect(incremental.stats.bytesStored).toBeLessThan(16 * 1024);

    expect((await snapshotsOf(staging)).map((s) => s.id)).toEqual([
      full.snapshot.id,
      incremental.snapshot.id,
    ]);
    const target = join(dir, 'restored');
    await restoreStagedSnapshot({ staging, target, passphrase });
    await expectSameTree(target, source);
    // The first snapshot is still whole.
    const old = join(dir, 'restored-old');
    await restoreStagedSnapshot({ staging, target: old, passphrase, snapshot: full.snapshot.id });
    await expect(fs.stat(join(old, 'data/nested/deeper/small.bin'))).resolves.toBeDefined();
    expect((await verifyStaging({ staging, passphrase })).ok).toBe(true);
  });

  it('keeps names that are odd but legal: backslashes, spaces, newlines, non-ASCII', async () => {
    const { dir, source, options } = await setup('names');
    const odd = join(source, 'odd');
    await fs.mkdir(odd);
    for (const name of ['system-systemd\\x2dcryptsetup.slice', 'with space', 'new\nline', 'ü-名前'])
      await fs.writeFile(join(odd, name), name);
    await setWholeSecondTimes(source);
    await stageDirectory(source, options);
    await fs.appendFile(join(odd, 'with space'), '!');
    const incremental = await stageDirectory(source, options);
    expect(incremental.skipped).toEqual([]);
    await restoreStagedSnapshot({ staging: options.staging, passphrase, target: join(dir, 'out') });
    await expectSameTree(join(dir, 'out'), source);
  });

  it('stores an unencrypted location without a passphrase', async () => {
    const { dir, source, staging } = await setup('plain');
    await stageDirectory(source, { staging, unencrypted: true, workers: 0 });
    expect(JSON.parse(await fs.readFile(join(staging, 'staging.json'), 'utf8')).crypto).toBeNull();
    await restoreStagedSnapshot({ staging, target: join(dir, 'out') });
    await expectSameTree(join(dir, 'out'), source);
  });
});

describe('what can go wrong', () => {
  it('a wrong or missing passphrase: clear errors, the location untouched', async () => {
    const { dir, source, staging, options } = await setup('passphrase');
    await stageDirectory(source, options);
    const before = await fs.readFile(join(staging, 'staging.json'));
    const wrong = { ...options, passphrase: 'not the passphrase at all!' };
    await expect(stageDirectory(source, wrong)).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(
      stageDirectory(source, { ...options, passphrase: undefined }),
    ).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED', path: staging });
    await expect(
      restoreStagedSnapshot({ staging, target: join(dir, 'out'), passphrase: wrong.passphrase }),
    ).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(verifyStaging({ staging })).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    expect(await fs.readFile(join(staging, 'staging.json'))).toEqual(before);
    await expect(fs.readdir(join(dir, 'out'))).rejects.toMatchObject({ code: 'ENOENT' });
    // Creating needs a passphrase of at least 16 characters, and does not create anything without.
    const other = join(dir, 'other');
    await expect(stageDirectory(source, { staging: other })).rejects.toMatchObject({
      code: 'PASSPHRASE_REQUIRED',
    });
    await expect(
      stageDirectory(source, { staging: other, passphrase: 'short' }),
    ).rejects.toMatchObject({ code: 'WEAK_PASSPHRASE' });
    await expect(fs.readdir(other)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a missing or foreign staging location, a missing source', async () => {
    const { dir, source, staging, options } = await setup('foreign');
    const missing = join(dir, 'nowhere');
    // One at a time: a promise created before the previous one is awaited could reject unhandled.
    for (const attempt of [
      () => verifyStaging({ staging: missing, passphrase }),
      () => restoreStagedSnapshot({ staging: missing, target: join(dir, 'out'), passphrase }),
      () => snapshotsOf(missing),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'STAGING_NOT_A_LOCATION' });
    }
    await expect(fs.stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    // A directory with other files is never turned into a location.
    await expect(stageDirectory(source, { ...options, staging: source })).rejects.toMatchObject({
      code: 'STAGING_NOT_EMPTY',
    });
    // Somebody else's staging.json.
    const foreign = join(dir, 'foreign');
    await fs.mkdir(foreign);
    await fs.writeFile(join(foreign, 'staging.json'), '{"format":"something else"}');
    await expect(stageDirectory(source, { ...options, staging: foreign })).rejects.toMatchObject({
      code: 'STAGING_NOT_A_LOCATION',
    });
    await expect(stageDirectory(join(dir, 'no-source'), options)).rejects.toMatchObject({
      code: 'SOURCE_NOT_FOUND',
    });
    await expect(stageDirectory(join(source, 'run.sh'), options)).rejects.toMatchObject({
      code: 'SOURCE_NOT_FOUND',
    });
    await expect(fs.stat(staging)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('volumes of another location, truncated or missing are refused', async () => {
    const first = await setup('extra-a');
    const second = await setup('extra-b');
    await stageDirectory(first.source, first.options);
    await stageDirectory(second.source, second.options);
    await fs.copyFile(
      join(first.staging, 'volumes/000001.vhd'),
      join(second.staging, 'volumes/000002.vhd'),
    );
    await expect(stageDirectory(second.source, second.options)).rejects.toMatchObject({
      code: 'STAGING_EXTRA_VOLUME',
    });
    await expect(verifyStaging({ staging: second.staging, passphrase })).rejects.toMatchObject({
      code: 'STAGING_EXTRA_VOLUME',
    });
    await fs.rm(join(second.staging, 'volumes/000002.vhd'));
    // A truncated volume, then a missing one: named, never written to.
    const volume = join(first.staging, 'volumes/000001.vhd');
    const { size } = await fs.stat(volume);
    await fs.truncate(volume, size - 512);
    await expect(stageDirectory(first.source, first.options)).rejects.toMatchObject({
      code: 'VOLUME_TRUNCATED',
      path: volume,
    });
    await fs.rm(volume);
    const target = join(first.dir, 'out');
    await expect(
      restoreStagedSnapshot({ staging: first.staging, target, passphrase }),
    ).rejects.toMatchObject({ code: 'STAGING_MISSING_VOLUME', path: volume });
    await expect(fs.readdir(join(first.staging, 'volumes'))).resolves.toEqual([
      '000001.vhd.ranges.json',
    ]);
  });

  it('files that vanish while the run reads are skipped and named; the rest is committed', async () => {
    const { dir, source, staging, options } = await setup('vanish');
    await fs.mkdir(join(source, 'zz-late'));
    await fs.writeFile(join(source, 'zz-late/gone.txt'), 'soon gone');
    let removed = false;
    const staged = await stageDirectory(source, {
      ...options,
      concurrency: 1,
      onProgress: () => {
        if (removed) return;
        removed = true;
        // Listed at the start (name order puts it last), gone before or while it is read.
        rmSync(join(source, 'zz-late'), { recursive: true });
      },
    });
    expect(staged.skipped).toEqual([
      expect.objectContaining({ path: expect.stringMatching(/^zz-late/), code: 'FILE_VANISHED' }),
    ]);
    const target = join(dir, 'out');
    await restoreStagedSnapshot({ staging, target, passphrase });
    // When the directory was read before it vanished, the snapshot keeps it, empty.
    await fs.rm(join(target, 'zz-late'), { recursive: true, force: true });
    await expectSameTree(target, source);
  });

  it('verify names the files a damaged volume breaks; restore restores all others', async () => {
    const { dir, source, staging, options } = await setup('damage');
    await stageDirectory(source, options);
    // Flip a byte inside the records of the sealed volume (past the 4 KiB superblock), in the
    // middle of the big random file's chunks.
    const volume = join(staging, 'volumes/000001.vhd');
    const handle = await fs.open(volume, 'r+');
    const at = 4096 + 1024 * 1024;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0]! ^= 0x40;
    await handle.write(byte, 0, 1, at);
    await handle.close();

    const report = await verifyStaging({ staging, passphrase });
    expect(report.ok).toBe(false);
    expect(report.volumes[0]!.damagedBlocks.length).toBe(1);
    const damaged = report.damagedFiles.map((f) => f.path).sort();
    expect(damaged).toEqual(['data/nested/copy.bin', 'data/random.bin']);
    expect(report.damagedFiles[0]).toMatchObject({ type: 'file', blobId: expect.any(String) });

    const target = join(dir, 'out');
    const restored = await restoreStagedSnapshot({ staging, target, passphrase });
    expect(restored.failed.map((f) => f.path).sort()).toEqual(damaged);
    await expect(fs.stat(join(target, 'data/random.bin'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await expect(fs.readFile(join(target, 'docs/readme.txt'), 'utf8')).resolves.toContain('hello');
  });

  it('an aborted run commits nothing; the next run reuses what it stored', async () => {
    const { dir, source, staging, options } = await setup('abort');
    await fs.writeFile(
      join(source, 'data/more.bin'),
      (await import('node:crypto')).randomBytes(4 * 1024 * 1024),
    );
    await setWholeSecondTimes(source);
    const controller = new AbortController();
    const aborted = stageDirectory(source, {
      ...options,
      abortSignal: controller.signal,
      onProgress: (progress) => {
        if (progress.bytesRead > 2 * 1024 * 1024) controller.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(await snapshotsOf(staging)).toEqual([]);
    const rerun = await stageDirectory(source, options);
    expect(rerun.recovery).toMatchObject({ outcome: 'resumed' });
    expect(rerun.recovery!.records).toBeGreaterThan(0);
    expect(rerun.stats.duplicateBlobs).toBeGreaterThan(0);
    expect(await snapshotsOf(staging)).toHaveLength(1);
    await restoreStagedSnapshot({ staging, target: join(dir, 'out'), passphrase });
    await expectSameTree(join(dir, 'out'), source);
  });
});
