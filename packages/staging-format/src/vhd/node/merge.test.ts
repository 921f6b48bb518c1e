import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileByteSource } from '../../byte-source/file.ts';
import { FileByteSink } from '../../byte-source/file-sink.ts';
import { MemoryByteSource } from '../../byte-source/memory.ts';
import { checkVhd } from '../check.ts';
import { convertDisk, createDifferencing, rawDisk } from '../convert.ts';
import { mergeJournalPath } from './journal-path.ts';
import { mergeVhdFile, recoverMerge } from './merge.ts';
import { openVhdFile } from './open-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vhd-merge-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BLOCK = 64 * 1024;

function baseContent(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 333) data[i] = (i >> 9) & 0xff;
  data.fill(0, 2 * BLOCK, 5 * BLOCK);
  return data;
}

/** Changes inside allocated and unallocated parent blocks, partial sectors and whole blocks. */
function childContent(base: Uint8Array): Uint8Array {
  return base
    .slice()
    .fill(0xa1, 1000, 3000)
    .fill(0xb2, 3 * BLOCK + 512, 3 * BLOCK + 4096)
    .fill(0xc3, 6 * BLOCK, 7 * BLOCK)
    .fill(0, 7 * BLOCK + 1024, 7 * BLOCK + 2048);
}

async function makeChain(
  name: string,
  parentType: 'fixed' | 'dynamic' | 'differencing',
  size = 8 * BLOCK,
) {
  const base = baseContent(size);
  const changed = childContent(base);
  const parentPath = join(dir, `${name}-parent.vhd`);
  const childPath = join(dir, `${name}-child.vhd`);
  if (parentType === 'differencing') {
    // The parent is itself a child: merging into it must keep its own bitmaps right.
    const rootPath = join(dir, `${name}-root.vhd`);
    const rootSink = await FileByteSink.open(rootPath, 'overwrite');
    await convertDisk(rawDisk(new MemoryByteSource(base.slice().fill(0x55, 0, 700))), rootSink, {
      type: 'dynamic',
      virtualSize: size,
      blockSize: BLOCK,
    });
    await rootSink.close();
    const root = await openVhdFile(rootPath);
    const sink = await FileByteSink.open(parentPath, 'overwrite');
    await createDifferencing(root, rawDisk(new MemoryByteSource(base)), sink, {
      parentPath: { relativePath: `${name}-root.vhd` },
    });
    await sink.close();
    await root.close();
  } else {
    const sink = await FileByteSink.open(parentPath, 'overwrite');
    await convertDisk(rawDisk(new MemoryByteSource(base)), sink, {
      type: parentType,
      virtualSize: size,
      blockSize: BLOCK,
    });
    await sink.close();
  }
  const parent = await openVhdFile(parentPath);
  const sink = await FileByteSink.open(childPath, 'overwrite');
  await createDifferencing(parent, rawDisk(new MemoryByteSource(changed)), sink, {
    parentPath: { relativePath: `${name}-parent.vhd` },
    blockSize: BLOCK,
  });
  await sink.close();
  await parent.close();
  return { base, changed, parentPath, childPath, original: await readFile(parentPath) };
}

async function readDisk(path: string, allowPendingMerge = false): Promise<Uint8Array> {
  const disk = await openVhdFile(path, { allowPendingMerge });
  try {
    return await disk.read(0, disk.virtualSize);
  } finally {
    await disk.close();
  }
}

async function problemsOf(path: string) {
  const source = await FileByteSource.open(path);
  try {
    return await checkVhd(source);
  } finally {
    await source.close();
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('mergeVhdFile', () => {
  it.each(['fixed', 'dynamic', 'differencing'] as const)(
    'merges a child into a %s parent',
    async (type) => {
      const { changed, parentPath, childPath } = await makeChain(`ok-${type}`, type);
      const result = await mergeVhdFile(childPath);
      expect(result.parentPath).toBe(parentPath);
      expect(result.bytesMerged).toBeGreaterThan(0);
      expect(await readDisk(parentPath)).toEqual(changed);
      expect(await problemsOf(parentPath)).toEqual([]);
      expect(await exists(mergeJournalPath(parentPath))).toBe(false);
      // The child still reads the same over its merged parent.
      expect(await readDisk(childPath)).toEqual(changed);
    },
  );

  it('refuses to merge a disk that is no differencing disk', async () => {
    const { parentPath } = await makeChain('not-child', 'dynamic');
    await expect(mergeVhdFile(parentPath)).rejects.toMatchObject({ code: 'VHD_UNSUPPORTED_TYPE' });
  });
});

describe('interrupted merges', () => {
  /** Makes the `failAt`-th file write tear (half written), truncate or sync fail. */
  function failAfter(failAt: number): { calls: () => number } {
    vi.restoreAllMocks();
    let calls = 0;
    const original = {
      write: FileByteSink.prototype.write,
      truncate: FileByteSink.prototype.truncate,
    };
    const fail = () => new Error(`injected failure at call ${calls}`);
    vi.spyOn(FileByteSink.prototype, 'write').mockImplementation(async function (
      this: FileByteSink,
      offset,
      bytes,
      options,
    ) {
      if (++calls === failAt) {
        await original.write.call(this, offset, bytes.subarray(0, bytes.length >> 1), options);
        throw fail();
      }
      return original.write.call(this, offset, bytes, options);
    });
    vi.spyOn(FileByteSink.prototype, 'truncate').mockImplementation(async function (
      this: FileByteSink,
      size,
    ) {
      if (++calls === failAt) throw fail();
      return original.truncate.call(this, size);
    });
    // A real fsync proves nothing in-process (the kernel survives) and is slow: only count it.
    vi.spyOn(FileByteSink.prototype, 'sync').mockImplementation(async () => {
      if (++calls === failAt) throw fail();
    });
    return { calls: () => calls };
  }

  it.each(['fixed', 'dynamic', 'differencing'] as const)(
    'into a %s parent: at every failure point, the parent reads as before or the merge completes',
    async (type) => {
      const probe = await makeChain(`count-${type}`, type);
      const counter = failAfter(Number.POSITIVE_INFINITY);
      await mergeVhdFile(probe.childPath);
      const total = counter.calls();
      expect(total).toBeGreaterThan(5);
      const outcomes = new Set<string>();
      for (let failAt = 1; failAt <= total; failAt++) {
        const { base, changed, parentPath, childPath, original } = await makeChain(
          `fail-${type}-${failAt}`,
          type,
        );
        failAfter(failAt);
        await expect(mergeVhdFile(childPath)).rejects.toThrow(/injected failure/);
        failAfter(Number.POSITIVE_INFINITY);
        // Until recovery, the parent refuses to open by default: it may be half-way.
        await expect(openVhdFile(parentPath)).rejects.toMatchObject({ code: 'VHD_MERGE_PENDING' });
        const between = await readDisk(parentPath, true);
        const recovered = await recoverMerge(parentPath);
        outcomes.add(String(recovered));
        if (recovered === 'rolled-back') {
          // Not committed: the parent read as before even without recovery, and is restored byte for byte.
          expect(between, `failure at call ${failAt}, before recovery`).toEqual(base);
          expect(new Uint8Array(await readFile(parentPath)), `failure at call ${failAt}`).toEqual(
            new Uint8Array(original),
          );
        } else {
          expect(await readDisk(parentPath), `failure at call ${failAt}, recovered`).toEqual(
            changed,
          );
        }
        expect(await problemsOf(parentPath)).toEqual([]);
        // Running the merge again finishes the job.
        await mergeVhdFile(childPath);
        expect(await readDisk(parentPath), `failure at call ${failAt}, merged again`).toEqual(
          changed,
        );
        expect(await exists(mergeJournalPath(parentPath))).toBe(false);
      }
      vi.restoreAllMocks();
      expect(outcomes).toEqual(new Set(['rolled-back', 'completed']));
    },
    60_000,
  );

  it('survives a real kill of the merging process', async () => {
    const size = 16 * 1024 * 1024;
    const { changed, parentPath, childPath } = await makeBigChain(size);
    const script = `
      const { mergeVhdFile } = await import(${JSON.stringify(new URL('../../node.ts', import.meta.url).href)});
      await mergeVhdFile(${JSON.stringify(childPath)});
      process.stdout.write('done');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    // Kill as soon as the journal exists, i.e. in the middle of the merge.
    const journal = mergeJournalPath(parentPath);
    for (let i = 0; i < 5000 && !(await exists(journal)) && child.exitCode === null; i++)
      await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The kill landed while the journal existed, i.e. inside the merge.
    expect(output).toBe('');
    expect(await exists(journal)).toBe(true);
    expect(await recoverMerge(parentPath)).toMatch(/^(completed|rolled-back)$/);
    await mergeVhdFile(childPath);
    expect(await exists(journal)).toBe(false);
    const merged = await readDisk(parentPath);
    expect(Buffer.compare(Buffer.from(merged), Buffer.from(changed))).toBe(0);
  }, 60_000);
});

async function makeBigChain(size: number) {
  const base = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) base[i] = 1;
  const changed = base.slice();
  for (let i = 0; i < size; i += 3 * 2048) changed[i + 1] = 2;
  const parentPath = join(dir, 'big-parent.vhd');
  const childPath = join(dir, 'big-child.vhd');
  const parentSink = await FileByteSink.open(parentPath, 'overwrite');
  await convertDisk(rawDisk(new MemoryByteSource(base)), parentSink, { type: 'dynamic' });
  await parentSink.close();
  const parent = await openVhdFile(parentPath);
  const childSink = await FileByteSink.open(childPath, 'overwrite');
  await createDifferencing(parent, rawDisk(new MemoryByteSource(changed)), childSink, {
    parentPath: { relativePath: 'big-parent.vhd' },
  });
  await childSink.close();
  await parent.close();
  return { changed, parentPath, childPath };
}

describe('recoverMerge', () => {
  it('does nothing without a journal, and refuses a foreign one', async () => {
    const { parentPath } = await makeChain('foreign', 'dynamic');
    expect(await recoverMerge(parentPath)).toBeUndefined();
    await writeFile(mergeJournalPath(parentPath), new Uint8Array(100).fill(7));
    await expect(recoverMerge(parentPath)).rejects.toMatchObject({ code: 'VHD_BAD_JOURNAL' });
  });
});
