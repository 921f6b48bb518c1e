import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertDisk, createDifferencing, MemoryByteSource, rawDisk } from '../src/index.ts';
import { FileByteSink, openVhdFile } from '../src/node.ts';
import { hasTool, run } from './vhd-tools.ts';

// qemu-img is the oracle: what we write it reads identically, and what it writes we read identically.
const qemu = hasTool('qemu-img', ['--version']);
const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vhd-qemu-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function content(size: number, seed: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 211) data[i] = (i * seed) & 0xff || 1;
  data.fill(0, Math.floor(size / 4), Math.floor(size / 2)); // a hole bigger than a block
  return data;
}

function qemuRaw(path: string): Promise<Buffer> {
  const out = `${path}.qemu.raw`;
  run('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', path, out]);
  return readFile(out);
}

function qemuSize(path: string): number {
  return JSON.parse(run('qemu-img', ['info', '-f', 'vpc', '--output', 'json', path]))[
    'virtual-size'
  ];
}

async function writeOurs(
  name: string,
  data: Uint8Array,
  type: 'fixed' | 'dynamic',
  options: { blockSize?: number; virtualSize?: number } = {},
): Promise<string> {
  const path = join(dir, name);
  const sink = await FileByteSink.open(path, 'overwrite');
  await convertDisk(rawDisk(new MemoryByteSource(data)), sink, { type, ...options });
  await sink.close();
  return path;
}

describe.skipIf(!qemu)('qemu-img reads what we write', () => {
  it.each<
    [type: 'fixed' | 'dynamic', size: number, options: { blockSize?: number; virtualSize?: number }]
  >([
    ['fixed', 5 * MiB + 3 * 512, {}],
    ['dynamic', 5 * MiB + 3 * 512, {}],
    ['dynamic', 3 * MiB, { blockSize: 512 * 1024 }],
    ['dynamic', 7 * MiB, { virtualSize: 9 * MiB }],
  ])('%s, %d bytes, %o', async (type, size, options) => {
    const data = content(size, 7);
    const path = await writeOurs(
      `ours-${type}-${size}-${options.blockSize ?? 0}.vhd`,
      data,
      type,
      options,
    );
    const virtualSize = options.virtualSize ?? Math.ceil(size / MiB) * MiB;
    expect(qemuSize(path)).toBe(virtualSize);
    const raw = await qemuRaw(path);
    expect(raw.length).toBe(virtualSize);
    expect(raw.subarray(0, size).equals(data)).toBe(true);
    expect(raw.subarray(size).every((b) => b === 0)).toBe(true);
  });

  it('reads a differencing chain we flattened to fixed', async () => {
    const base = content(4 * MiB, 3);
    const parentPath = await writeOurs('chain-parent.vhd', base, 'dynamic');
    const changed = base.slice().fill(0x5a, MiB + 100, MiB + 9000);
    const parent = await openVhdFile(parentPath);
    const childPath = join(dir, 'chain-child.vhd');
    const sink = await FileByteSink.open(childPath, 'overwrite');
    await createDifferencing(parent, rawDisk(new MemoryByteSource(changed)), sink, {
      parentPath: { relativePath: 'chain-parent.vhd' },
    });
    await sink.close();
    await parent.close();
    const child = await openVhdFile(childPath);
    const fixedPath = join(dir, 'chain-flat.vhd');
    const flat = await FileByteSink.open(fixedPath, 'overwrite');
    await convertDisk(child, flat, { type: 'fixed' });
    await flat.close();
    await child.close();
    expect((await qemuRaw(fixedPath)).equals(changed)).toBe(true);
  });
});

describe.skipIf(!qemu)('we read what qemu-img writes', () => {
  it.each([
    ['dynamic', ['-o', 'subformat=dynamic']],
    ['dynamic, force_size', ['-o', 'subformat=dynamic,force_size=on']],
    ['fixed', ['-o', 'subformat=fixed']],
    ['fixed, force_size', ['-o', 'subformat=fixed,force_size=on']],
  ])('%s', async (name, options) => {
    const size = 6 * MiB + 4096;
    const rawPath = join(dir, `qemu-src-${name}.raw`);
    await writeFile(rawPath, content(size, 11));
    const path = join(dir, `qemu-${name}.vhd`);
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', ...options, rawPath, path]);
    const disk = await openVhdFile(path);
    try {
      expect(disk.warnings).toEqual([]);
      expect(disk.virtualSize).toBe(qemuSize(path));
      const ours = await disk.read(0, disk.virtualSize);
      expect(Buffer.from(ours).equals(await qemuRaw(path))).toBe(true);
    } finally {
      await disk.close();
    }
  });

  it('converts a qemu dynamic image to fixed the way qemu reads it', async () => {
    const rawPath = join(dir, 'qemu-conv.raw');
    await writeFile(rawPath, content(3 * MiB, 5));
    const path = join(dir, 'qemu-conv.vhd');
    run('qemu-img', [
      'convert',
      '-f',
      'raw',
      '-O',
      'vpc',
      '-o',
      'subformat=dynamic,force_size=on',
      rawPath,
      path,
    ]);
    const disk = await openVhdFile(path);
    const out = join(dir, 'qemu-conv-fixed.vhd');
    const sink = await FileByteSink.open(out, 'overwrite');
    await convertDisk(disk, sink, { type: 'fixed' });
    await sink.close();
    await disk.close();
    expect((await qemuRaw(out)).equals(await qemuRaw(path))).toBe(true);
  });
});
