import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { CatalogReader, type FileEntry, toHex } from '@offline-seed/chunk-engine';
import { describe, expect, it } from 'vitest';
import { passphrase, scratchDir, testScrypt } from '../../test/tree.ts';
import { openCodec, withStagingReader } from './location.ts';
import { stageDirectory } from './stage.ts';
import { type StagingVerificationReport, verifyStaging } from './verify.ts';

/**
 * XORed into a record at any byte, these bits leave its CRC-32 unchanged (they are the CRC
 * polynomial, in the reflected bit order of CRC-32): damage only authentication can see.
 */
const crcInvisible = [0x41, 0x06, 0x71, 0xdb, 0x01];

async function damageUnseenByCrc(path: string, offset: number): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    const bytes = new Uint8Array(crcInvisible.length);
    await handle.read(bytes, 0, bytes.length, offset);
    for (const [i, bits] of crcInvisible.entries()) bytes[i]! ^= bits;
    await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}

/** A location holding one snapshot of `files` files of 1000 random bytes each. */
async function stagedLocation(prefix: string, files: number, options: { seal: boolean }) {
  const dir = await scratchDir(prefix);
  const source = join(dir, 'source');
  await fs.mkdir(source);
  for (let i = 0; i < files; i++) await fs.writeFile(join(source, `f${i}`), randomBytes(1000));
  const staging = join(dir, 'staging');
  await stageDirectory(source, { staging, passphrase, scrypt: testScrypt, ...options });
  return staging;
}

describe('verifyStaging', () => {
  it('checks blobs on worker threads, in batches, and finds what one thread finds', async () => {
    const dir = await scratchDir('verify-contents');
    const source = join(dir, 'source');
    const staging = join(dir, 'staging');
    // Enough one-blob files for several batches, two files sharing a blob, one of many chunks.
    await fs.mkdir(join(source, 'many'), { recursive: true });
    for (let i = 0; i < 300; i++)
      await fs.writeFile(join(source, 'many', `f${i}`), randomBytes(200 + i));
    const shared = randomBytes(5000);
    await fs.writeFile(join(source, 'a.bin'), shared);
    await fs.writeFile(join(source, 'b.bin'), shared);
    await fs.writeFile(join(source, 'big.bin'), randomBytes(1024 * 1024));
    const location = { staging, passphrase, scrypt: testScrypt, seal: true };
    const chunker = { minSize: 16 * 1024, avgSize: 32 * 1024, maxSize: 64 * 1024 };
    const first = await stageDirectory(source, { ...location, chunker });
    await fs.writeFile(join(source, 'later.txt'), 'in the second snapshot only');
    await stageDirectory(source, location);

    const ids = await withStagingReader(staging, {}, async (reader) => {
      const catalog = new CatalogReader(
        reader,
        await openCodec(reader.descriptor, staging, passphrase),
      );
      const chunks = async (path: string) =>
        ((await catalog.find(first.snapshot.rootId, path)) as FileEntry).chunks!;
      return {
        shared: (await chunks('a.bin'))[0]!,
        small: (await chunks('many/f7'))[0]!,
        big: await chunks('big.bin'),
      };
    });
    expect(ids.big.length).toBeGreaterThan(12);
    // Two chunks of the big file: it is reported with the first of them.
    const targets = new Set([ids.shared, ids.small, ids.big[3]!, ids.big[12]!]);
    await withStagingReader(staging, {}, async (reader) => {
      for (const volume of reader.sealed.volumes) {
        for (const entry of volume.entries()) {
          // Past the record's header, inside its stored bytes.
          if (targets.has(toHex(entry.id)))
            await damageUnseenByCrc(volume.path!, entry.offset + entry.storedLength);
        }
      }
    });

    const pooled = await verifyStaging({ staging, passphrase });
    const oneThread = await verifyStaging({ staging, passphrase, workers: 0 });
    const damage = (report: StagingVerificationReport) =>
      report.damagedFiles
        .map((f) => `${f.snapshotId === first.snapshot.id ? 1 : 2} ${f.path} ${f.code} ${f.blobId}`)
        .sort();
    const expected = [1, 2].flatMap((snapshot) => [
      `${snapshot} a.bin BLOB_AUTH_FAILED ${ids.shared}`,
      `${snapshot} b.bin BLOB_AUTH_FAILED ${ids.shared}`,
      `${snapshot} big.bin BLOB_AUTH_FAILED ${ids.big[3]}`,
      `${snapshot} many/f7 BLOB_AUTH_FAILED ${ids.small}`,
    ]);
    expect(damage(pooled)).toEqual(expected.sort());
    expect(damage(oneThread)).toEqual(damage(pooled));
    expect(pooled.ok).toBe(false);
    // The volumes' block checksums see the damage too.
    expect(pooled.volumes.some((volume) => volume.damagedBlocks.length > 0)).toBe(true);
    for (const report of [pooled, oneThread]) {
      expect(report.snapshots.map((s) => [s.filesIntact, s.damaged])).toEqual([
        [299, 4],
        [300, 4],
      ]);
      // Every distinct blob once: the big file's other chunks are checked too.
      expect(report.blobsChecked).toBe(299 + ids.big.length - 2 + 1);
    }
    expect(pooled.bytesChecked).toBe(oneThread.bytesChecked);
  });

  it('reads the blobs of a volume still open through the catalog', async () => {
    const staging = await stagedLocation('verify-open-volume', 20, { seal: false });
    for (const workers of [undefined, 0]) {
      const report = await verifyStaging({ staging, passphrase, workers });
      expect(report.volumes).toEqual([]);
      expect(report.unsealed).toMatchObject({ volume: 1 });
      expect(report).toMatchObject({ ok: true, blobsChecked: 20, bytesChecked: 20_000 });
    }
  });

  it('refuses a concurrency that would check nothing', async () => {
    for (const concurrency of [0, -1, 1.5])
      await expect(verifyStaging({ staging: '.', concurrency })).rejects.toThrow(RangeError);
  });

  it('rejects with the abort when aborted while checking contents', async () => {
    const staging = await stagedLocation('verify-abort', 50, { seal: true });
    const controller = new AbortController();
    await expect(
      verifyStaging({
        staging,
        passphrase,
        abortSignal: controller.signal,
        onProgress: ({ phase }) => {
          if (phase === 'contents') controller.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
