import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureCompatibility, checkVhd } from '../src/index.ts';
import {
  breakStaleLock,
  createStagingDirectory,
  FileByteSource,
  inspectLock,
  LOCK_FILE,
  openStagingDirectory,
  readStagingDirectory,
} from '../src/node.ts';
import {
  blobDifference,
  locationOptions,
  testBlob,
  testBlobId,
} from './fixtures/staging-helpers.ts';

let root: string;
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'staging-dir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
const newDir = () => join(root, `location-${++count}`);

function has(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined;
}

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string; path?: string };
  }
  throw new Error('expected a rejection');
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

async function sealedDirectory(blobs = 30) {
  const dir = newDir();
  const writer = await createStagingDirectory(dir, locationOptions());
  for (let n = 0; n < blobs; n++) await writer.put(testBlob(n, 150_000));
  await writer.commitSnapshot({ id: 'one', time: '2026-11-23T12:00:00Z', rootId: 'ab', stats: {} });
  await writer.close({ seal: true });
  return { dir, descriptor: writer.descriptor };
}

describe('staging locations in a directory', () => {
  it('lays out staging.json, volumes/ and sidecars, leaving no temporary files', async () => {
    const { dir, descriptor } = await sealedDirectory();
    expect((await readdir(dir)).sort()).toEqual(['staging.json', 'volumes']);
    const expected = descriptor.volumes
      .flatMap((v) => [v.file.slice(8), v.transferHashes!.file.slice(8)])
      .sort();
    expect((await readdir(join(dir, 'volumes'))).sort()).toEqual(expected);
    const onDisk = JSON.parse(await readFile(join(dir, 'staging.json'), 'utf8'));
    expect(onDisk).toEqual(descriptor);
    expect(JSON.stringify(onDisk)).not.toMatch(/passphrase|"key"/);
  });

  it('writes volumes that vhd check and the Azure rules accept', async () => {
    const { dir, descriptor } = await sealedDirectory();
    for (const volume of descriptor.volumes) {
      const source = await FileByteSource.open(join(dir, volume.file));
      expect(await checkVhd(source)).toEqual([]);
      expect(await azureCompatibility(source, { target: 'page-blob' })).toEqual([]);
      await source.close();
    }
  });

  it.skipIf(!has('qemu-img'))(
    'writes volumes qemu-img reads as fixed VHDs holding exactly the payload',
    async () => {
      const { dir, descriptor } = await sealedDirectory();
      for (const volume of descriptor.volumes) {
        const path = join(dir, volume.file);
        const virtualSize = volume.size! - 512;
        const info = JSON.parse(
          execFileSync('qemu-img', ['info', '--output=json', '-f', 'vpc', path], {
            encoding: 'utf8',
          }),
        );
        expect(info).toMatchObject({ format: 'vpc', 'virtual-size': virtualSize });
        const raw = `${path}.raw`;
        await writeFile(raw, (await readFile(path)).subarray(0, virtualSize));
        expect(spawnSync('qemu-img', ['compare', '-f', 'vpc', '-F', 'raw', path, raw]).status).toBe(
          0,
        );
        await rm(raw);
      }
    },
  );

  it.skipIf(!has('vhdiinfo'))(
    'writes volumes libvhdi reads as fixed VHDs of whole MiB',
    async () => {
      const { dir, descriptor } = await sealedDirectory();
      for (const volume of descriptor.volumes) {
        const info = execFileSync('vhdiinfo', [join(dir, volume.file)], { encoding: 'utf8' });
        expect(info).toMatch(/Disk type\s*:\s*Fixed/);
        expect(info).toMatch(new RegExp(`Media size\\s*:.*\\(${volume.size! - 512} bytes\\)`));
      }
    },
  );

  it('keeps a second writer out, naming the owner', async () => {
    const dir = newDir();
    const writer = await createStagingDirectory(dir, locationOptions());
    const lock = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    const error = await errorOf(openStagingDirectory(dir));
    expect(error).toMatchObject({ code: 'STAGING_LOCKED', path: join(dir, LOCK_FILE) });
    expect(error.message).toContain(`process ${process.pid}`);
    expect(await inspectLock(dir)).toMatchObject({ stale: false });
    expect(await errorOf(breakStaleLock(dir))).toMatchObject({ code: 'STAGING_LOCK_NOT_STALE' });
    // A reader needs no lock.
    const reader = await readStagingDirectory(dir);
    await reader.close();
    await writer.close();
    expect(await inspectLock(dir)).toBeUndefined();
  });

  it('detects stale locks (dead process, reused pid, damaged file) and breaks only those', async () => {
    const dir = newDir();
    await (await createStagingDirectory(dir, locationOptions())).close();
    const lockPath = join(dir, LOCK_FILE);
    const owner = {
      pid: deadPid(),
      host: hostname(),
      startedAt: '2026-11-23T00:00:00Z',
      token: 't1',
    };
    await writeFile(lockPath, JSON.stringify(owner));
    expect(await inspectLock(dir)).toMatchObject({ stale: true, owner });
    expect((await errorOf(openStagingDirectory(dir))).message).toMatch(/stale/);
    expect(await breakStaleLock(dir)).toEqual(owner);
    await (await openStagingDirectory(dir)).close();

    await writeFile(lockPath, JSON.stringify({ ...owner, pid: process.pid, processStart: '1' }));
    expect(await inspectLock(dir)).toMatchObject({
      stale: true,
      reason: expect.stringMatching(/reused/),
    });
    await writeFile(lockPath, 'garbage');
    expect(await inspectLock(dir)).toMatchObject({ stale: true, owner: undefined });
    await breakStaleLock(dir);
    await writeFile(lockPath, JSON.stringify({ ...owner, host: 'another-host' }));
    expect(await inspectLock(dir)).toMatchObject({ stale: false });
    expect(await errorOf(breakStaleLock(dir))).toMatchObject({ code: 'STAGING_LOCK_NOT_STALE' });
    await rm(lockPath);
    expect(await breakStaleLock(dir)).toBeUndefined();
  });

  it('drops a torn tail on open, reports it, and reads a location that is still being written', async () => {
    const dir = newDir();
    const writer = await createStagingDirectory(dir, locationOptions());
    for (let n = 0; n < 6; n++) await writer.put(testBlob(n, 100_000));
    await writer.flush();
    const reader = await readStagingDirectory(dir);
    expect(reader.unsealed).toMatchObject({ volume: 1, records: 6, tailBytes: expect.any(Number) });
    expect(blobDifference(await reader.get(testBlobId(3)), testBlob(3, 100_000))).toBe('same');
    await reader.close();
    await writer.put(testBlob(6, 100_000));
    await writer.close();
    // Tear the last record, as a crash during its write would.
    const volume = join(dir, 'volumes', '000001.vhd');
    const size = (await readFile(volume)).length;
    await truncate(volume, size - 1000);
    const reopened = await openStagingDirectory(dir);
    expect(reopened.recovery).toMatchObject({
      volume: 1,
      outcome: 'resumed',
      records: 6,
      droppedBytes: 100_056 - 1000 + 64,
    });
    expect(reopened.has(testBlobId(6))).toBe(false);
    await reopened.put(testBlob(6, 100_000));
    await reopened.close({ seal: true });
    const sealed = await readStagingDirectory(dir);
    expect((await sealed.verify()).ok).toBe(true);
    for (let n = 0; n < 7; n++)
      expect(blobDifference(await sealed.get(testBlobId(n)), testBlob(n, 100_000))).toBe('same');
    await sealed.close();
  });

  it('refuses a descriptor that is not ours, with the path', async () => {
    const dir = newDir();
    await (await createStagingDirectory(dir, locationOptions())).close();
    await writeFile(join(dir, 'staging.json'), '{"format":"something"}');
    expect(await errorOf(readStagingDirectory(dir))).toMatchObject({
      code: 'STAGING_NOT_A_LOCATION',
      path: join(dir, 'staging.json'),
    });
    expect(await errorOf(createStagingDirectory(dir, locationOptions()))).toMatchObject({
      code: 'STAGING_EXISTS',
    });
    expect(await errorOf(readStagingDirectory(newDir()))).toMatchObject({
      code: 'STAGING_NOT_A_LOCATION',
    });
  });
});
