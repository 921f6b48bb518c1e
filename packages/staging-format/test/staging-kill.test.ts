import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureCompatibility, checkVhd } from '../src/index.ts';
import {
  breakStaleLock,
  FileByteSource,
  inspectLock,
  openStagingDirectory,
  readStagingDirectory,
} from '../src/node.ts';
import { blobDifference, crashTestBlob, testBlobId } from './fixtures/staging-helpers.ts';

const WRITER = fileURLToPath(new URL('./fixtures/staging-kill-writer.ts', import.meta.url));
const TRIALS = 24;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'staging-kill-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the writer from blob `first` and SIGKILLs it `delayMs` after it is ready. */
function runAndKill(mode: 'create' | 'open', first: number, seed: number, delayMs: number) {
  return new Promise<{ acked: number; snapshots: string[] }>((resolve, reject) => {
    // Type stripping is on by default in current Node; the flag keeps the fixture running on 22.x
    // releases where it is not.
    const child = spawn(
      process.execPath,
      ['--experimental-strip-types', WRITER, mode, dir, String(first), String(seed)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let acked = first;
    const snapshots: string[] = [];
    let stderr = '';
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, value] = line.split(' ');
        if (word === 'ready') setTimeout(() => child.kill('SIGKILL'), delayMs);
        if (word === 'ack') acked = Math.max(acked, Number(value));
        if (word === 'snap') snapshots.push(value!);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ acked, snapshots });
      else reject(new Error(`the writer exited on its own (code ${code}): ${stderr}`));
    });
  });
}

describe('a writer killed with SIGKILL at random points', () => {
  it('loses nothing a flush acknowledged, over many kills, and seals what it recovered', async () => {
    let seed = 0x2545f491;
    const random = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    let acked = 0;
    const snapshots: string[] = [];
    let recoveries = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const created = existsSync(join(dir, 'staging.json'));
      const result = await runAndKill(
        created ? 'open' : 'create',
        acked,
        seed + trial,
        20 + random(200),
      );
      // The dead writer's lock is stale; breaking it is the explicit step a user takes.
      const lock = await inspectLock(dir);
      if (lock !== undefined) {
        expect(lock.stale).toBe(true);
        await breakStaleLock(dir);
      }
      if (!existsSync(join(dir, 'staging.json'))) continue; // killed before the location existed
      const writer = await openStagingDirectory(dir);
      if (writer.recovery !== undefined) recoveries++;
      for (let n = 0; n < result.acked; n++) {
        expect(writer.has(testBlobId(n)), `blob ${n} of ${result.acked} acknowledged`).toBe(true);
      }
      // Full contents of what this trial acknowledged.
      for (let n = acked; n < result.acked; n++) {
        const blob = crashTestBlob(n);
        expect(blobDifference(await writer.get(blob.id), blob), `blob ${n}`).toBe('same');
      }
      const committed = writer.descriptor.snapshots.map((s) => s.id);
      snapshots.push(...result.snapshots);
      expect(committed).toEqual(expect.arrayContaining(snapshots));
      await writer.close();
      acked = result.acked;
    }
    // Loose bounds, as the machine may be busy: the trials did write, and recovery did run.
    expect(acked).toBeGreaterThan(TRIALS);
    expect(recoveries).toBeGreaterThan(TRIALS / 4);

    const writer = await openStagingDirectory(dir);
    await writer.close({ seal: true });
    const reader = await readStagingDirectory(dir);
    const verification = await reader.verify();
    expect(verification.ok).toBe(true);
    expect(reader.unsealed).toBeUndefined();
    for (let n = 0; n < acked; n++) {
      const blob = crashTestBlob(n);
      expect(blobDifference(await reader.get(blob.id), blob), `blob ${n}`).toBe('same');
    }
    for (const volume of reader.descriptor.volumes) {
      const source = await FileByteSource.open(join(dir, volume.file));
      expect(await checkVhd(source)).toEqual([]);
      expect(await azureCompatibility(source)).toEqual([]);
      await source.close();
    }
    await reader.close();
  }, 120_000);
});
