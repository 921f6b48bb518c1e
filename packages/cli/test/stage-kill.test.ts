// The built binary killed (SIGKILL) or interrupted (SIGINT) in the middle of `stage`: the next
// run resumes without storing again what the killed one wrote, and the result restores exactly.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { expectSameTree, passphrase, scratchDir, setWholeSecondTimes } from './tree.ts';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const env = { ...process.env, OFFLINE_SEED_PASSPHRASE: passphrase };
const fileCount = 24;
const fileBytes = 4 * 1024 * 1024;

async function randomTree(root: string): Promise<void> {
  await fs.mkdir(root, { recursive: true });
  for (let i = 0; i < fileCount; i++)
    await fs.writeFile(
      join(root, `file-${String(i).padStart(2, '0')}.bin`),
      randomBytes(fileBytes),
    );
  await setWholeSecondTimes(root);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [bin, ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** Bytes of volume files in the location so far. */
async function volumeBytes(staging: string): Promise<number> {
  const dir = join(staging, 'volumes');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  let total = 0;
  for (const name of names)
    total += (await fs.stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  return total;
}

/** Starts `stage` and sends `signal` once `afterBytes` of volume data exist; resolves to its exit. */
async function stageAndSignal(
  source: string,
  staging: string,
  signal: NodeJS.Signals,
  afterBytes: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; sentAt: number }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, 'stage', source, '--staging', staging],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (data) => {
    stderr += data;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let sentAt = -1;
  let done = false;
  void exit.then(() => {
    done = true;
  });
  while (!done) {
    const bytes = await volumeBytes(staging);
    if (bytes >= afterBytes) {
      sentAt = bytes;
      child.kill(signal);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { ...(await exit), stderr, sentAt };
}

describe('stage killed or interrupted', () => {
  it('resumes after kill -9 without storing again what was written, and restores exactly', async () => {
    const dir = await scratchDir('kill');
    const source = join(dir, 'source');
    const staging = join(dir, 'staging');
    await randomTree(source);
    const total = fileCount * fileBytes;

    const killed = await stageAndSignal(source, staging, 'SIGKILL', total / 3);
    expect(killed.signal, `the run ended before it was killed: ${killed.stderr}`).toBe('SIGKILL');
    expect(JSON.parse((await cli(['snapshots', '--staging', staging, '--json'])).stdout)).toEqual(
      [],
    );
    // Verify reads the killed run's open volume without changing it.
    const checked = await cli(['verify', '--staging', staging, '--json']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout).unsealed).toMatchObject({ volume: 1 });
    expect(JSON.parse(checked.stdout).unsealed.records).toBeGreaterThan(0);

    const resumed = await cli(['stage', source, '--staging', staging, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/broke the stale lock of process \d+/);
    expect(resumed.stderr).toMatch(/resumed volume 1: \d+ blobs of an interrupted run reused/);
    const run = JSON.parse(resumed.stdout);
    // Random data does not compress: what the killed run wrote is not stored again.
    expect(run.bytesStored).toBeLessThan(total - killed.sentAt / 2);
    expect(run.dedupedChunks).toBeGreaterThan(0);

    expect((await cli(['verify', '--staging', staging])).code).toBe(0);
    const target = join(dir, 'restored');
    expect((await cli(['restore', '--staging', staging, '--target', target])).code).toBe(0);
    await expectSameTree(target, source);
  }, 120_000);

  it('kill -9 during an incremental run leaves the earlier snapshot intact', async () => {
    const dir = await scratchDir('kill-incremental');
    const source = join(dir, 'source');
    const staging = join(dir, 'staging');
    await randomTree(source);
    expect((await cli(['stage', source, '--staging', staging])).code).toBe(0);
    const before = await volumeBytes(staging);
    await fs.mkdir(join(source, 'more'));
    for (let i = 0; i < 8; i++)
      await fs.writeFile(join(source, `more/${i}.bin`), randomBytes(fileBytes));
    const killed = await stageAndSignal(source, staging, 'SIGKILL', before + 8 * 1024 * 1024);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const first = join(dir, 'first');
    expect((await cli(['restore', '--staging', staging, '--target', first])).code).toBe(0);
    await fs.rm(join(source, 'more'), { recursive: true });
    await expectSameTree(first, source);
  }, 120_000);

  it('Ctrl-C flushes, commits nothing, exits 130; the next run completes', async () => {
    const dir = await scratchDir('sigint');
    const source = join(dir, 'source');
    const staging = join(dir, 'staging');
    await randomTree(source);
    const interrupted = await stageAndSignal(source, staging, 'SIGINT', fileBytes);
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stderr).toContain('interrupted');
    expect(JSON.parse((await cli(['snapshots', '--staging', staging, '--json'])).stdout)).toEqual(
      [],
    );
    const rerun = await cli(['stage', source, '--staging', staging, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toContain('stale lock');
    expect(JSON.parse(rerun.stdout).dedupedChunks).toBeGreaterThan(0);
  }, 120_000);
});
