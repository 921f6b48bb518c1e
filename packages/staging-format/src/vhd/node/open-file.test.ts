import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileByteSource } from '../../byte-source/file.ts';
import { FileByteSink } from '../../byte-source/file-sink.ts';
import { MemoryByteSource } from '../../byte-source/memory.ts';
import { convertDisk, createDifferencing, rawDisk } from '../convert.ts';
import { openVhdFile, parentCandidates } from './open-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vhd-open-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const content = new Uint8Array(64 * 1024).fill(5, 100, 9000);

async function writeBase(path: string, fill = 5): Promise<void> {
  const sink = await FileByteSink.open(path, 'overwrite');
  await convertDisk(rawDisk(new MemoryByteSource(content.slice().fill(fill, 100, 9000))), sink, {
    type: 'dynamic',
    blockSize: 4096,
  });
  await sink.close();
}

async function writeChild(
  childPath: string,
  parentPath: string,
  relativePath: string,
  absolutePath?: string,
) {
  const parent = await openVhdFile(parentPath);
  const sink = await FileByteSink.open(childPath, 'overwrite');
  await createDifferencing(
    parent,
    rawDisk(new MemoryByteSource(content.slice().fill(9, 0, 10))),
    sink,
    {
      parentPath: { relativePath, ...(absolutePath === undefined ? {} : { absolutePath }) },
    },
  );
  await sink.close();
  await parent.close();
}

describe('openVhdFile', () => {
  it('follows the relative locator into another folder, and a chain moved together', async () => {
    await mkdir(join(dir, 'base'), { recursive: true });
    await mkdir(join(dir, 'kids'), { recursive: true });
    await writeBase(join(dir, 'base', 'root.vhd'));
    await writeChild(
      join(dir, 'kids', 'child.vhd'),
      join(dir, 'base', 'root.vhd'),
      '../base/root.vhd',
    );
    const disk = await openVhdFile(join(dir, 'kids', 'child.vhd'));
    expect(disk.parent?.name).toBe(join(dir, 'base', 'root.vhd'));
    expect((await disk.read(0, 20)).subarray(0, 12)).toEqual(
      Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0]),
    );
    await disk.close();
    // Moved side by side into a new folder: found by file name.
    await mkdir(join(dir, 'moved'));
    await rename(join(dir, 'kids', 'child.vhd'), join(dir, 'moved', 'child.vhd'));
    await rename(join(dir, 'base', 'root.vhd'), join(dir, 'moved', 'root.vhd'));
    const moved = await openVhdFile(join(dir, 'moved', 'child.vhd'));
    expect(moved.parent?.name).toBe(join(dir, 'moved', 'root.vhd'));
    await moved.close();
  });

  it('reads every file of the chain with the syncReadLimit given, and rejects a bad one', async () => {
    await writeBase(join(dir, 'sync-root.vhd'));
    await writeChild(join(dir, 'sync-child.vhd'), join(dir, 'sync-root.vhd'), 'sync-root.vhd');
    const opened = vi.spyOn(FileByteSource, 'open');
    try {
      const plain = await openVhdFile(join(dir, 'sync-child.vhd'));
      const expected = await plain.read(0, plain.virtualSize);
      await plain.close();
      opened.mockClear();
      for (const syncReadLimit of [0, 4 * 1024 * 1024]) {
        const disk = await openVhdFile(join(dir, 'sync-child.vhd'), { syncReadLimit });
        expect(await disk.read(0, disk.virtualSize)).toEqual(expected);
        await disk.close();
      }
      const limits = opened.mock.calls.map(([, options]) => options?.syncReadLimit);
      // Child and parent, each time.
      expect(limits).toEqual([0, 0, 4 * 1024 * 1024, 4 * 1024 * 1024]);
    } finally {
      opened.mockRestore();
    }
    await expect(
      openVhdFile(join(dir, 'sync-child.vhd'), { syncReadLimit: -1 }),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it('tells a missing parent from a wrong one, and takes an explicit parent', async () => {
    await writeBase(join(dir, 'p.vhd'));
    await writeChild(join(dir, 'c.vhd'), join(dir, 'p.vhd'), 'p.vhd');
    await writeBase(join(dir, 'other.vhd'), 6);
    await rename(join(dir, 'p.vhd'), join(dir, 'p-renamed.vhd'));
    await expect(openVhdFile(join(dir, 'c.vhd'))).rejects.toMatchObject({
      code: 'VHD_PARENT_NOT_FOUND',
      path: join(dir, 'c.vhd'),
    });
    const explicit = await openVhdFile(join(dir, 'c.vhd'), {
      parentPath: join(dir, 'p-renamed.vhd'),
    });
    expect(explicit.parent?.name).toBe(join(dir, 'p-renamed.vhd'));
    await explicit.close();
    await expect(
      openVhdFile(join(dir, 'c.vhd'), { parentPath: join(dir, 'other.vhd') }),
    ).rejects.toMatchObject({
      code: 'VHD_PARENT_MISMATCH',
    });
    await rename(join(dir, 'other.vhd'), join(dir, 'p.vhd'));
    await expect(openVhdFile(join(dir, 'c.vhd'))).rejects.toMatchObject({
      code: 'VHD_PARENT_MISMATCH',
    });
    const orphan = await openVhdFile(join(dir, 'c.vhd'), {
      allowMissingParent: true,
      parentPath: join(dir, 'absent.vhd'),
    }).catch((e: unknown) => e);
    expect(orphan).toMatchObject({ code: 'SOURCE_IO' });
  });
});

describe('parentCandidates', () => {
  it('tries locators, the parent name and the file name next to the child', () => {
    const candidates = parentCandidates('/data/vms/child.vhd', {
      uniqueId: new Uint8Array(16),
      timestamp: 0,
      name: 'base.vhd',
      locators: [
        { platform: 'W2ru', path: '..\\images\\base.vhd' },
        { platform: 'W2ku', path: 'C:\\Hyper-V\\images\\base.vhd' },
        { platform: 'MacX', path: 'file:///Volumes/vms/base.vhd' },
      ],
    });
    expect(candidates).toEqual(
      process.platform === 'win32'
        ? expect.any(Array)
        : ['/data/images/base.vhd', '/data/vms/base.vhd', '/Volumes/vms/base.vhd'],
    );
  });
});
