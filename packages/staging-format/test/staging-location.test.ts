import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  azureCompatibility,
  checkVhd,
  decodeTransferHashes,
  isStagingFormatError,
  MemoryByteSource,
  MemoryLocationStore,
  type SinkBlob,
  StagingReader,
  StagingWriter,
  VolumeReader,
  VolumeSet,
} from '../src/index.ts';
import {
  blobDifference,
  expectedTransferRanges,
  locationOptions,
  overrideVolumes,
  testBlob,
  testBlobId,
} from './fixtures/staging-helpers.ts';

const MiB = 1024 * 1024;

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code?: string; name: string; message: string; path?: string; offset?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; name: string; message: string };
  }
  throw new Error('expected a rejection');
}

/** A location of `count` blobs of `size` bytes, every `treeEvery`-th one (if any) a catalog blob. */
async function writeLocation(
  count: number,
  size: number,
  { store = new MemoryLocationStore(), treeEvery = 5 } = {},
) {
  const writer = await StagingWriter.create(store, locationOptions());
  const blobs = Array.from({ length: count }, (_, n) =>
    testBlob(n, size, treeEvery > 0 && n % treeEvery === 0 ? 'tree' : 'data'),
  );
  for (const blob of blobs) await writer.put(blob);
  await writer.commitSnapshot({
    id: 'first',
    time: '2026-11-23T12:00:00Z',
    rootId: 'aa'.repeat(32),
    stats: { files: count },
  });
  return { store, writer, blobs };
}

async function expectBlobs(
  source: { get(id: Uint8Array): Promise<SinkBlob> },
  blobs: readonly SinkBlob[],
) {
  for (const blob of blobs) expect(blobDifference(await source.get(blob.id), blob)).toBe('same');
}

describe('StagingWriter and readers over an in-memory location', () => {
  it('stores blobs across volumes, rolls over below maxVolumeSize and reads everything back', async () => {
    const { store, writer, blobs } = await writeLocation(40, 250_000);
    await expectBlobs(writer, blobs);
    await writer.close({ seal: true });
    const { volumes } = writer.descriptor;
    expect(volumes.length).toBeGreaterThan(2);
    for (const volume of volumes) {
      expect(volume.state).toBe('sealed');
      expect(volume.size).toBeLessThanOrEqual(4 * MiB);
      expect((volume.size! - 512) % MiB).toBe(0);
    }
    expect(volumes.reduce((sum, v) => sum + v.recordCount!, 0)).toBe(40);

    const reader = await StagingReader.open(store);
    await expectBlobs(reader, blobs);
    expect(reader.has(testBlobId(1000))).toBe(false);
    expect(await errorOf(reader.get(testBlobId(1000)))).toMatchObject({
      code: 'STAGING_BLOB_NOT_FOUND',
    });
    const snapshots = [];
    for await (const snapshot of reader.listSnapshots()) snapshots.push(snapshot);
    expect(snapshots).toEqual([
      {
        id: 'first',
        time: '2026-11-23T12:00:00Z',
        rootId: 'aa'.repeat(32),
        stats: { files: 40 },
        volume: volumes.length,
      },
    ]);
    const verification = await reader.verify();
    expect(verification.ok).toBe(true);
    await reader.close();
  });

  it('hands each blob whose record checks out to onBlob, in the one verification pass', async () => {
    const { store, writer, blobs } = await writeLocation(40, 250_000);
    await writer.close({ seal: true });
    const hex = (id: Uint8Array) => Buffer.from(id).toString('hex');
    const records = (reader: StagingReader) =>
      reader.sealed.volumes.flatMap((volume) =>
        [...volume.entries()].sort((a, b) => a.offset - b.offset),
      );
    const intact = await StagingReader.open(store);
    const damaged = records(intact)[1]!;
    await intact.close();
    // A byte of the second record's stored bytes (past its 56-byte header).
    const file = writer.descriptor.volumes[0]!.file;
    const bytes = store.snapshot(file)!;
    bytes[damaged.offset + 100]! ^= 1;
    store.put(file, bytes);

    const reader = await StagingReader.open(store);
    const seen: SinkBlob[] = [];
    const verification = await reader.verify({ onBlob: async (blob) => void seen.push(blob) });
    expect(verification.volumes[0]!.damagedBlobs.map((blob) => blob.id)).toEqual([hex(damaged.id)]);
    // Every other blob, whole (records span the 2 MiB blocks), in the order of the volumes.
    expect(seen.map((blob) => hex(blob.id))).toEqual(
      records(reader)
        .filter((_, i) => i !== 1)
        .map((entry) => hex(entry.id)),
    );
    const written = new Map(blobs.map((blob) => [hex(blob.id), blob]));
    for (const blob of seen) expect(blobDifference(blob, written.get(hex(blob.id))!)).toBe('same');
    await reader.close();
  });

  it('reads ahead the catalog records of every sealed volume, together', async () => {
    const { store, writer } = await writeLocation(60, 40_000);
    await writer.close({ seal: true });
    const reopened = await StagingWriter.open(store);
    const reader = await StagingReader.open(store);
    const trees = reader.sealed.volumes.flatMap((volume) =>
      [...volume.entries()]
        .filter((entry) => entry.type === 'tree')
        .sort((a, b) => a.offset - b.offset)
        .map((entry) => ({ volume, entry })),
    );
    await reader.close();
    expect(trees.length).toBe(12);
    const reads: Array<{ offset: number; length: number }> = [];
    const spy = vi.spyOn(MemoryByteSource.prototype, 'readInto').mockImplementation(async function (
      this: MemoryByteSource,
      target,
      offset,
    ) {
      reads.push({ offset, length: target.length });
      target.set(await this.read(offset, target.length));
    });
    try {
      const bytes = await reopened.readAhead('tree');
      expect(bytes).toBe(reads.reduce((sum, read) => sum + read.length, 0));
      // Every catalog record lies within one read.
      for (const { entry } of trees) {
        const end = entry.offset + 56 + entry.storedLength;
        expect(
          reads.some((read) => read.offset <= entry.offset && end <= read.offset + read.length),
        ).toBe(true);
      }
      // The writer appends catalog records together: one read per volume that holds any.
      expect(reads.length).toBe(new Set(trees.map(({ volume }) => volume)).size);
      expect(reads.length).toBeLessThan(trees.length);
      // A byte budget stops it after the read that reaches it.
      reads.length = 0;
      expect(await reopened.readAhead('tree', { maxBytes: 1 })).toBe(reads[0]!.length);
      expect(reads).toHaveLength(1);
    } finally {
      spy.mockRestore();
      await reopened.close();
    }
  });

  it('writes sealed volumes that are fixed VHDs Azure accepts, with correct transfer hashes', async () => {
    const { store, writer } = await writeLocation(12, 200_000);
    await writer.close({ seal: true });
    const reader = await StagingReader.open(store);
    for (const volume of writer.descriptor.volumes) {
      const bytes = store.snapshot(volume.file)!;
      const source = new MemoryByteSource(bytes);
      expect(await checkVhd(source)).toEqual([]);
      expect(await azureCompatibility(source)).toEqual([]);
      const sidecar = store.snapshot(volume.transferHashes!.file)!;
      expect(createHash('sha256').update(sidecar).digest('hex')).toBe(
        volume.transferHashes!.sha256,
      );
      const expected = expectedTransferRanges(bytes);
      const hashes = decodeTransferHashes(sidecar, volume.transferHashes!.file);
      expect(await reader.transferHashes(volume.number)).toEqual(hashes);
      expect(hashes).toMatchObject({ volume: volume.number, fileSize: bytes.length });
      expect(hashes.ranges).toEqual(expected);
      // The footer's page is always part of what is transferred.
      expect(expected.at(-1)!.offset + expected.at(-1)!.length).toBe(bytes.length);
    }
    const sidecar = writer.descriptor.volumes[0]!.transferHashes!.file;
    store.put(sidecar, new TextEncoder().encode('{}'));
    expect(await errorOf(reader.transferHashes(1))).toMatchObject({
      code: 'STAGING_BAD_DESCRIPTOR',
    });
    expect((await reader.verify()).damagedTransferHashes).toEqual([
      expect.objectContaining({ volume: 1, code: 'STAGING_BAD_DESCRIPTOR' }),
    ]);
    store.delete(sidecar);
    expect(await errorOf(reader.transferHashes(1))).toMatchObject({
      code: 'STAGING_MISSING_VOLUME',
    });
    expect((await reader.verify()).ok).toBe(false);
    expect(await errorOf(reader.transferHashes(9))).toMatchObject({ name: 'RangeError' });
  });

  it.each([
    ['a fast store', false],
    ['a slow store that reads the bytes only when the write ends', true],
  ])(
    'keeps hashes right while copies of the blobs recycle their memory (a 60 MiB volume, %s)',
    async (_, slow) => {
      const store = new MemoryLocationStore();
      // Writes run while the next blobs are copied: memory a write still holds must not be reused.
      if (slow)
        overrideVolumes(store, (file) => ({
          append: async (chunks) => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            await file.append(chunks);
          },
        }));
      const writer = await StagingWriter.create(
        store,
        locationOptions({ maxVolumeSize: 64 * MiB }),
      );
      let total = 0;
      for (let n = 0; total < 58 * MiB; n++) {
        // Small, slab-sized and larger-than-slab-share blobs, with a zero-filled one now and then.
        const size = [700, 300_000, 1_100_000, 2_500_000, 40_000][n % 5]!;
        const blob = testBlob(n, size);
        if (n % 7 === 3) blob.bytes.fill(0, 0, Math.floor(size / 2));
        await writer.put(blob);
        // The caller reuses its buffer at once: stored copies must not change.
        blob.bytes.fill(0xee);
        total += size;
      }
      const sealed = await writer.sealVolume();
      await writer.close();
      const bytes = store.snapshot(sealed!.file)!;
      const hashes = decodeTransferHashes(store.snapshot(sealed!.transferHashes!.file)!, 'x');
      expect(hashes.ranges).toEqual(expectedTransferRanges(bytes));
      const reader = await VolumeReader.open(new MemoryByteSource(bytes));
      expect((await reader.verify()).ok).toBe(true);
    },
    60_000,
  );

  it('runs overlapping calls in call order, reports verify progress and honours abort signals', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions());
    const blobs = Array.from({ length: 25 }, (_, n) => testBlob(n, 90_000));
    await Promise.all([...blobs.map((blob) => writer.put(blob)), writer.flush()]);
    expect(writer.blobCount).toBe(25);
    await writer.close({ seal: true });
    const reader = await StagingReader.open(store);
    await expectBlobs(reader, blobs);
    const progress: Array<[number, number]> = [];
    await reader.verify({
      onProgress: ({ bytesDone, bytesTotal }) => progress.push([bytesDone, bytesTotal]),
    });
    const total = progress.at(-1)![1];
    expect(progress.at(-1)).toEqual([total, total]);
    expect(progress.every(([done], i) => i === 0 || done > progress[i - 1]![0])).toBe(true);
    expect(await errorOf(reader.verify({ abortSignal: AbortSignal.abort() }))).toMatchObject({
      name: 'AbortError',
    });
  });

  it('stages before the import job exists and binds the job later', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions({ job: { jobName: 'seed' } }));
    await expect(writer.updateJob({ container: '' })).rejects.toThrow(TypeError);
    const job = await writer.updateJob({
      storageAccountId: '/subscriptions/s/x',
      container: 'seed',
    });
    expect(job).toEqual({
      jobName: 'seed',
      storageAccountId: '/subscriptions/s/x',
      container: 'seed',
    });
    await writer.close();
    expect((await StagingReader.open(store)).descriptor.job).toEqual(job);
    expect(
      await errorOf(
        StagingWriter.create(new MemoryLocationStore(), locationOptions({ job: {} as never })),
      ),
    ).toMatchObject({
      name: 'TypeError',
    });
  });

  it('appends catalog blobs together, in runs of 4 MiB and at every flush', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions());
    // Small catalog blobs between data blobs, then large ones that fill a run before any flush.
    const small = Array.from({ length: 12 }, (_, n) =>
      testBlob(n, 2_000 + n, n % 2 === 0 ? 'tree' : 'data'),
    );
    for (const blob of small) await writer.put(blob);
    const held = small[4]!;
    expect(writer.has(held.id)).toBe(true);
    expect(writer.blobCount).toBe(12);
    expect(blobDifference(await writer.get(held.id), held)).toBe('same');
    // The caller may reuse its buffer once put resolved, also for a blob held back.
    const reused = testBlob(99, 3_000, 'tree');
    const kept = testBlob(99, 3_000, 'tree');
    await writer.put(reused);
    reused.bytes.fill(0);
    await writer.flush();
    const large = Array.from({ length: 10 }, (_, n) =>
      testBlob(100 + n, 900_000, n % 2 === 0 ? 'tree' : 'data'),
    );
    for (const blob of large) await writer.put(blob);
    await writer.close({ seal: true });

    const reader = await StagingReader.open(store);
    // Across volumes (a few MiB each here), in file order.
    const order = reader.sealed.volumes.flatMap((volume) =>
      [...volume.entries()]
        .sort((a, b) => a.offset - b.offset)
        .map((entry) => Buffer.from(entry.id).toString('hex')),
    );
    const ids = (blobs: SinkBlob[], type: SinkBlob['type']) =>
      blobs
        .filter((blob) => blob.type === type)
        .map((blob) => Buffer.from(blob.id).toString('hex'));
    expect(order).toEqual([
      // Before the flush: the data, then the catalog blobs held back, in put order.
      ...ids(small, 'data'),
      ...ids([...small, kept], 'tree'),
      // Five catalog blobs of 900 000 bytes: the fifth fills the run (4 500 000 bytes), which is
      // appended before the last data blob.
      ...ids(large.slice(0, 9), 'data'),
      ...ids(large, 'tree'),
      ...ids(large.slice(9), 'data'),
    ]);
    await expectBlobs(reader, [...small, kept, ...large]);
    expect((await reader.verify()).ok).toBe(true);
    await reader.close();
  });

  it('treats a second put of an id as a no-op, and answers has() before a flush', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions());
    const blob = testBlob(1, 1000);
    await writer.put(blob);
    expect(writer.has(blob.id)).toBe(true);
    await writer.put({ ...blob, bytes: new Uint8Array(5) });
    expect(writer.blobCount).toBe(1);
    expect(blobDifference(await writer.get(blob.id), blob)).toBe('same');
    await writer.close();
  });

  it('lets callers reuse their buffers as soon as put resolves', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions());
    const buffer = new Uint8Array(100_000).fill(1);
    const small = new Uint8Array(100).fill(2);
    await writer.put({ id: testBlobId(1), type: 'data', rawLength: 1, bytes: buffer });
    await writer.put({ id: testBlobId(2), type: 'data', rawLength: 1, bytes: small });
    buffer.fill(9);
    small.fill(9);
    await writer.close({ seal: true });
    const reader = await StagingReader.open(store);
    expect((await reader.get(testBlobId(1))).bytes.every((b) => b === 1)).toBe(true);
    expect((await reader.get(testBlobId(2))).bytes.every((b) => b === 2)).toBe(true);
    expect((await reader.verify()).ok).toBe(true);
  });

  it('keeps snapshot catalogs in the volume that ends them', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions());
    const snapshot = (id: string) => ({ id, time: '2026-11-23T12:00:00Z', rootId: id, stats: {} });
    await writer.put(testBlob(1, 1000));
    await writer.commitSnapshot(snapshot('a'));
    await writer.sealVolume();
    // Everything deduplicated: the snapshot still needs a volume to carry its catalog.
    await writer.put(testBlob(1, 1000));
    await writer.commitSnapshot({ ...snapshot('b'), parentId: 'a' });
    expect(await errorOf(writer.commitSnapshot(snapshot('b')))).toMatchObject({
      code: 'STAGING_SNAPSHOT_EXISTS',
    });
    await writer.close({ seal: true });
    const sources = writer.descriptor.volumes.map(
      (v) => new MemoryByteSource(store.snapshot(v.file)!),
    );
    const set = await VolumeSet.open(sources);
    const listed = [];
    for await (const s of set.listSnapshots()) listed.push([s.id, s.volume, s.parentId]);
    expect(listed).toEqual([
      ['a', 1, undefined],
      ['b', 2, 'a'],
    ]);
  });

  it('refuses bad arguments with built-in errors and misuse with typed ones', async () => {
    const store = new MemoryLocationStore();
    expect(
      await errorOf(StagingWriter.create(store, locationOptions({ maxVolumeSize: MiB }))),
    ).toMatchObject({ name: 'RangeError' });
    expect(
      await errorOf(StagingWriter.create(store, locationOptions({ maxVolumeSize: 9 * 1024 ** 4 }))),
    ).toMatchObject({ name: 'RangeError' });
    expect(
      await errorOf(
        StagingWriter.create(
          store,
          locationOptions({
            crypto: { kdf: 'scrypt', salt: 'a', keyCheck: 'b', passphrase: 'hunter2' },
          }),
        ),
      ),
    ).toMatchObject({ name: 'TypeError', message: expect.not.stringContaining('hunter2') });
    expect(
      await errorOf(StagingWriter.create(store, locationOptions({ stagingId: 'x' }))),
    ).toMatchObject({ name: 'TypeError' });

    const writer = await StagingWriter.create(store, locationOptions());
    expect(await errorOf(StagingWriter.create(store, locationOptions()))).toMatchObject({
      code: 'STAGING_LOCKED',
    });
    expect(await errorOf(StagingWriter.open(store))).toMatchObject({ code: 'STAGING_LOCKED' });
    const blob = testBlob(1, 10);
    await expect(writer.put({ ...blob, id: new Uint8Array(31) })).rejects.toThrow(TypeError);
    await expect(writer.put({ ...blob, type: 'other' as 'data' })).rejects.toThrow(TypeError);
    await expect(writer.put({ ...blob, rawLength: -1 })).rejects.toThrow(RangeError);
    await expect(writer.put({ ...blob, bytes: [1, 2] as unknown as Uint8Array })).rejects.toThrow(
      TypeError,
    );
    expect(await errorOf(writer.put({ ...blob, bytes: new Uint8Array(4 * MiB) }))).toMatchObject({
      name: 'RangeError',
    });
    expect(await errorOf(writer.put(blob, { abortSignal: AbortSignal.abort() }))).toMatchObject({
      name: 'AbortError',
    });
    expect(await errorOf(writer.get(testBlobId(5)))).toMatchObject({
      code: 'STAGING_BLOB_NOT_FOUND',
    });
    await expect(
      writer.commitSnapshot({ id: 'x', time: 'soon', rootId: 'r', stats: {} }),
    ).rejects.toThrow(TypeError);
    const huge = {
      id: 'huge',
      time: '2026-11-23T12:00:00Z',
      rootId: 'r',
      stats: { note: 'x'.repeat(5 * MiB) },
    };
    expect(await errorOf(writer.commitSnapshot(huge))).toMatchObject({ name: 'RangeError' });
    await writer.close();
    await writer.close();
    expect(await errorOf(writer.put(blob))).toMatchObject({ code: 'STAGING_CLOSED' });
    expect(await errorOf(StagingWriter.create(store, locationOptions()))).toMatchObject({
      code: 'STAGING_EXISTS',
    });
    expect(await errorOf(StagingWriter.open(new MemoryLocationStore()))).toMatchObject({
      code: 'STAGING_NOT_A_LOCATION',
    });
  });
});

describe('crash recovery (simulated power loss)', () => {
  type Op =
    | { kind: 'put'; size: number }
    | { kind: 'flush' }
    | { kind: 'snapshot' }
    | { kind: 'seal' }
    | { kind: 'crash'; keep: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('put' as const),
        size: fc.oneof(fc.nat(3000), fc.integer({ min: 60_000, max: 700_000 })),
      }),
    },
    { weight: 3, arbitrary: fc.constant({ kind: 'flush' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'seal' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('crash' as const),
        keep: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    },
  );

  // Every third blob is a catalog blob, which the writer holds back until a run fills or a flush.
  const crashBlob = (n: number, size: number) => testBlob(n, size, n % 3 === 0 ? 'tree' : 'data');

  it('never loses what a flush acknowledged, keeps whole records only, and seals what it recovered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const store = new MemoryLocationStore();
        let writer = await StagingWriter.create(store, locationOptions());
        let next = 0;
        let durable = 0; // blobs 0..durable-1 were acknowledged by a flush
        const committed: string[] = [];
        const sizes: number[] = [];
        for (const step of [...ops, { kind: 'crash' as const, keep: 0.5 }]) {
          if (step.kind === 'put') {
            sizes.push(step.size);
            await writer.put(crashBlob(next++, step.size));
          } else if (step.kind === 'flush') {
            await writer.flush();
            durable = next;
          } else if (step.kind === 'snapshot') {
            const id = `s${committed.length}`;
            await writer.commitSnapshot({
              id,
              time: '2026-11-23T12:00:00Z',
              rootId: 'r',
              stats: { blobs: next },
            });
            committed.push(id);
            durable = next;
          } else if (step.kind === 'seal') {
            await writer.sealVolume();
            durable = next;
          } else {
            // Power loss: each file keeps a random share of what it had not synced (a torn tail).
            store.crash({ keepUnsynced: (_, unsynced) => Math.floor(unsynced * step.keep) });
            writer = await StagingWriter.open(store);
            for (let n = 0; n < next; n++) {
              const present = writer.has(testBlobId(n));
              if (n < durable) expect(present, `acknowledged blob ${n}`).toBe(true);
              if (present)
                expect(
                  blobDifference(await writer.get(testBlobId(n)), crashBlob(n, sizes[n]!)),
                ).toBe('same');
            }
            expect(writer.descriptor.snapshots.map((s) => s.id)).toEqual(committed);
            // Blobs lost in the crash are put again, as the engine would after a restart.
            next = durable = Math.max(durable, writer.blobCount === next ? next : durable);
            sizes.length = next;
          }
        }
        await writer.close({ seal: true });
        const reader = await StagingReader.open(store);
        expect((await reader.verify()).ok).toBe(true);
        for (const volume of reader.descriptor.volumes) {
          expect(
            await azureCompatibility(new MemoryByteSource(store.snapshot(volume.file)!)),
          ).toEqual([]);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('drops any garbage after the last complete record, and keeps every flushed blob', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 5000 }),
        fc.nat(3),
        async (garbage, flushed) => {
          const store = new MemoryLocationStore();
          const writer = await StagingWriter.create(store, locationOptions());
          for (let n = 0; n <= flushed; n++) await writer.put(testBlob(n, 20_000 + n));
          await writer.flush();
          await writer.close();
          const file = 'volumes/000001.vhd';
          const before = store.snapshot(file)!;
          // Garbage that starts like a record header, half of the time.
          const tail = garbage.slice();
          if (tail[0]! % 2 === 0) tail.set([0x4f, 0x53, 0x52, 0x42].slice(0, tail.length));
          const grown = new Uint8Array(before.length + tail.length);
          grown.set(before);
          grown.set(tail, before.length);
          store.put(file, grown);
          const reopened = await StagingWriter.open(store);
          expect(reopened.recovery).toMatchObject({
            outcome: 'resumed',
            records: flushed + 1,
            droppedBytes: tail.length,
          });
          for (let n = 0; n <= flushed; n++) {
            expect(blobDifference(await reopened.get(testBlobId(n)), testBlob(n, 20_000 + n))).toBe(
              'same',
            );
          }
          await reopened.close({ seal: true });
          expect((await (await StagingReader.open(store)).verify()).ok).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('refuses to cut damage that sits before acknowledged data, and changes nothing', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions());
    for (let n = 0; n < 5; n++) await writer.put(testBlob(n, 50_000));
    await writer.flush();
    store.crash();
    const file = 'volumes/000001.vhd';
    const bytes = store.snapshot(file)!;
    bytes[4096 + 56 + 10]! ^= 0x40; // inside the first record's stored bytes
    store.put(file, bytes);
    const error = await errorOf(StagingWriter.open(store));
    expect(error).toMatchObject({ code: 'VOLUME_CORRUPT', offset: 4096 });
    expect(error.path).toMatch(/000001\.vhd$/);
    expect(store.snapshot(file)).toEqual(bytes);
    // The read-only view still serves the records before the damage (none here) and reports it.
    const reader = await StagingReader.open(store);
    expect(reader.unsealed).toMatchObject({ volume: 1, records: 0 });
  });

  it('starts again a volume whose superblock never became durable, unless a sync mark follows', async () => {
    const store = new MemoryLocationStore();
    const writer = await StagingWriter.create(store, locationOptions());
    await writer.put(testBlob(1, 10_000));
    await writer.flush();
    await writer.close();
    const file = 'volumes/000001.vhd';
    const flushed = store.snapshot(file)!;
    store.put(file, new Uint8Array(8192));
    const reopened = await StagingWriter.open(store);
    expect(reopened.recovery).toEqual({
      volume: 1,
      outcome: 'recreated',
      records: 0,
      droppedBytes: 8192,
    });
    await reopened.close();
    const damaged = flushed.slice();
    damaged[100] = 0xff;
    store.put(file, damaged);
    expect(await errorOf(StagingWriter.open(store))).toMatchObject({
      code: 'VOLUME_CORRUPT',
      offset: 0,
    });
  });

  it('survives a full disk: the failed put rejects, the writer stops, reopening keeps what was flushed', async () => {
    const store = new MemoryLocationStore();
    let room = 1_000_000;
    overrideVolumes(store, (file) => ({
      append: async (chunks) => {
        const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
        if (bytes > room) {
          await file.append([chunks[0]!.subarray(0, Math.min(room, chunks[0]!.length))]);
          room = 0;
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        }
        room -= bytes;
        await file.append(chunks);
      },
    }));
    const writer = await StagingWriter.create(store, locationOptions());
    for (let n = 0; n < 3; n++) await writer.put(testBlob(n, 200_000));
    await writer.flush();
    let failure: unknown;
    for (let n = 3; n < 60 && failure === undefined; n++) {
      await writer.put(testBlob(n, 200_000)).catch((error: unknown) => {
        failure = error;
      });
    }
    expect(failure).toMatchObject({ code: 'ENOSPC' });
    // Catalog blobs, which the writer holds back, are refused too.
    expect(await errorOf(writer.put(testBlob(99, 100, 'tree')))).toMatchObject({
      code: 'STAGING_CLOSED',
    });
    expect(await errorOf(writer.flush())).toMatchObject({ code: 'STAGING_CLOSED' });
    await writer.close();
    room = Number.POSITIVE_INFINITY;
    const reopened = await StagingWriter.open(store);
    expect(reopened.recovery).toMatchObject({ volume: 1, outcome: 'resumed' });
    for (let n = 0; n < 3; n++) expect(reopened.has(testBlobId(n))).toBe(true);
    await reopened.close({ seal: true });
    expect((await (await StagingReader.open(store)).verify()).ok).toBe(true);
  });
});

describe('damaged and foreign volumes', () => {
  async function sealedLocation() {
    // Data blobs only: they lie in put order, so their offsets follow from their numbers.
    const { store, writer, blobs } = await writeLocation(30, 200_000, { treeEvery: 0 });
    await writer.close({ seal: true });
    return { store, blobs, descriptor: writer.descriptor };
  }

  it('verify reports a damaged block with the blobs it holds, and every other blob stays readable', async () => {
    const { store, blobs, descriptor } = await sealedLocation();
    const file = descriptor.volumes[0]!.file;
    const bytes = store.snapshot(file)!;
    const flipAt = 4096 + 56 + 300_000; // inside the second record (each is 56 + 200 000 bytes)
    bytes[flipAt]! ^= 1;
    store.put(file, bytes);
    const reader = await StagingReader.open(store);
    const [first] = await reader.sealed.verify();
    expect(first!.ok).toBe(false);
    expect(first!.damagedBlocks).toEqual([
      expect.objectContaining({
        block: 0,
        offset: 0,
        blobIds: expect.arrayContaining([expect.any(String)]),
      }),
    ]);
    const damagedId = Buffer.from(blobs[1]!.id).toString('hex');
    expect(first!.damagedBlobs).toEqual([
      expect.objectContaining({ id: damagedId, reason: 'record CRC mismatch' }),
    ]);
    expect(first!.damagedBlocks[0]!.blobIds).toContain(damagedId);
    expect(await errorOf(reader.get(blobs[1]!.id))).toMatchObject({
      code: 'VOLUME_BAD_RECORD',
      offset: 4096 + 56 + 200_000,
    });
    await expectBlobs(
      reader,
      blobs.filter((_, n) => n !== 1),
    );
    expect((await reader.verify()).ok).toBe(false);
  });

  it('verify finds damage in the second block of a record that spans two blocks', async () => {
    const { store, blobs, descriptor } = await sealedLocation();
    const file = descriptor.volumes[0]!.file;
    const bytes = store.snapshot(file)!;
    // Record 10 (56 + 200 000 bytes each, from 4096) runs across the 2 MiB block boundary.
    const recordStart = 4096 + 10 * 200_056;
    expect(recordStart).toBeLessThan(2 * MiB);
    bytes[2 * MiB + 1000]! ^= 1;
    store.put(file, bytes);
    const [volume] = await (await StagingReader.open(store)).sealed.verify();
    expect(volume!.damagedBlocks.map((block) => block.block)).toEqual([1]);
    expect(volume!.damagedBlobs).toEqual([
      expect.objectContaining({
        id: Buffer.from(blobs[10]!.id).toString('hex'),
        offset: recordStart,
        reason: 'record CRC mismatch',
      }),
    ]);
  });

  it('gives typed errors naming the file and offset for damaged structures', async () => {
    const { store, descriptor } = await sealedLocation();
    const file = descriptor.volumes[0]!.file;
    const original = store.snapshot(file)!;
    const size = original.length;
    const flip = (at: number) => (bytes: Uint8Array) => {
      bytes[at]! ^= 1;
      return bytes;
    };
    const cases: Array<[string, (bytes: Uint8Array) => Uint8Array, string]> = [
      ['footer', flip(size - 500), 'VOLUME_NOT_SEALED'],
      ['trailer', flip(size - 1024 + 40), 'VOLUME_BAD_TRAILER'],
      ['superblock', flip(20), 'VOLUME_BAD_SUPERBLOCK'],
      ['truncated', (b) => b.subarray(0, size - 4096), 'VOLUME_NOT_SEALED'],
      ['tiny', (b) => b.subarray(0, 100), 'VOLUME_TRUNCATED'],
    ];
    for (const [name, damage, code] of cases) {
      const error = await errorOf(
        VolumeReader.open(new MemoryByteSource(damage(original.slice())), { path: file }),
      );
      expect(error, name).toMatchObject({ code, path: file });
      expect(typeof error.offset, name).toBe('number');
    }
    const trailer = new DataView(original.buffer, original.byteOffset + size - 1024, 512);
    const table = { offset: Number(trailer.getBigUint64(72)) };
    const tableDamaged = original.slice();
    tableDamaged[table.offset]! ^= 1;
    expect(await errorOf(VolumeReader.open(new MemoryByteSource(tableDamaged)))).toMatchObject({
      code: 'VOLUME_BAD_CHECKSUM_TABLE',
      offset: table.offset,
    });
  });

  it('refuses missing, extra, shrunk and foreign volumes in a location', async () => {
    const { store, descriptor } = await sealedLocation();
    const [first, second] = descriptor.volumes.map((v) => v.file);
    const firstBytes = store.snapshot(first!)!;

    store.put('volumes/000099.vhd', firstBytes);
    expect(await errorOf(StagingReader.open(store))).toMatchObject({
      code: 'STAGING_EXTRA_VOLUME',
      path: 'memory:/volumes/000099.vhd',
    });
    store.delete('volumes/000099.vhd');

    store.delete(second!);
    expect(await errorOf(StagingReader.open(store))).toMatchObject({
      code: 'STAGING_MISSING_VOLUME',
    });
    expect(await errorOf(StagingWriter.open(store))).toMatchObject({
      code: 'STAGING_MISSING_VOLUME',
    });

    // Volume 1 where volume 2 belongs: same location, wrong number.
    store.put(second!, firstBytes);
    expect(await errorOf(StagingReader.open(store))).toMatchObject({
      code: 'VOLUME_FOREIGN',
      offset: 0,
    });

    // A volume of another location with the right number and size.
    const other = await writeLocation(30, 200_000, { treeEvery: 0 });
    await other.writer.close({ seal: true });
    store.put(first!, other.store.snapshot(first!)!);
    store.put(second!, other.store.snapshot(second!)!);
    expect(await errorOf(StagingReader.open(store))).toMatchObject({ code: 'VOLUME_FOREIGN' });
    expect(
      await errorOf(
        VolumeSet.open([
          new MemoryByteSource(firstBytes),
          new MemoryByteSource(other.store.snapshot(second!)!),
        ]),
      ),
    ).toMatchObject({
      code: 'VOLUME_FOREIGN',
    });
    expect(
      await errorOf(
        VolumeSet.open([new MemoryByteSource(firstBytes), new MemoryByteSource(firstBytes)]),
      ),
    ).toMatchObject({
      code: 'STAGING_EXTRA_VOLUME',
    });

    store.put(first!, firstBytes.subarray(0, firstBytes.length - MiB));
    expect(await errorOf(StagingReader.open(store))).toMatchObject({
      code: 'VOLUME_TRUNCATED',
      path: `memory:/${first}`,
    });
  });

  it('opening a damaged volume either works or fails with a typed error, whatever is flipped or cut', async () => {
    const { store, descriptor } = await sealedLocation();
    const original = store.snapshot(descriptor.volumes[0]!.file)!;
    const size = original.length;
    // Flips aimed at the structures (start and end of the file), and truncations.
    const position = fc.oneof(fc.nat(8192), fc.integer({ min: size - 70_000, max: size - 1 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(position, fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.nat(size)),
        async (flips, cut) => {
          const bytes = original.slice(0, cut ?? size);
          for (const [at, xor] of flips) if (at < bytes.length) bytes[at]! ^= xor;
          try {
            const reader = await VolumeReader.open(new MemoryByteSource(bytes));
            await reader.verify();
          } catch (error) {
            expect(isStagingFormatError(error), String(error)).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
