import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertDisk, createDifferencing, MemoryByteSource, rawDisk } from '../src/index.ts';
import { FileByteSink, mergeVhdFile, openVhdFile } from '../src/node.ts';
import { debianPython, hasTool, run, sha256 } from './vhd-tools.ts';

// libvhdi (pyvhdi) follows differencing chains, which qemu cannot: it is the oracle for those.
const pyvhdi = hasTool(debianPython, ['-c', 'import pyvhdi']);
const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vhd-libvhdi-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** SHA-256 of the disk at the end of `chain` (root first), as libvhdi reads it. */
function libvhdiDigest(chain: string[]): string {
  const script = `
import hashlib, sys, pyvhdi
files = []
for path in sys.argv[1:]:
    f = pyvhdi.file()
    f.open(path)
    if files:
        f.set_parent(files[-1])
    files.append(f)
top = files[-1]
digest = hashlib.sha256()
offset = 0
while offset < top.media_size:
    chunk = top.read_buffer_at_offset(min(1 << 20, top.media_size - offset), offset)
    digest.update(chunk)
    offset += len(chunk)
print(digest.hexdigest())
`;
  return run(debianPython, ['-c', script, ...chain]).trim();
}

async function write(
  path: string,
  work: (sink: FileByteSink) => Promise<unknown>,
): Promise<string> {
  const sink = await FileByteSink.open(path, 'overwrite');
  await work(sink);
  await sink.close();
  return path;
}

function pattern(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 97) data[i] = (i >> 7) & 0xff || 1;
  data.fill(0, MiB, 3 * MiB);
  return data;
}

describe.skipIf(!pyvhdi)('libvhdi reads our differencing chains', () => {
  it('agrees on every disk of a three-level chain, sector-granular edits included, and after a merge', async () => {
    const size = 5 * MiB;
    const root = pattern(size);
    const middle = root
      .slice()
      .fill(0x11, 700, 1300)
      .fill(0x22, 2 * MiB, 2 * MiB + 512);
    const leaf = middle
      .slice()
      .fill(0x33, 1000, 1100)
      .fill(0, 4 * MiB, 4 * MiB + 4096)
      .fill(0x44, size - 512);
    const rootPath = await write(join(dir, 'root.vhd'), (sink) =>
      convertDisk(rawDisk(new MemoryByteSource(root)), sink, {
        type: 'dynamic',
        virtualSize: size,
      }),
    );
    const chain = [rootPath];
    for (const [name, data] of [
      ['middle', middle],
      ['leaf', leaf],
    ] as const) {
      const parent = await openVhdFile(chain[chain.length - 1]!);
      const path = await write(join(dir, `${name}.vhd`), (sink) =>
        createDifferencing(parent, rawDisk(new MemoryByteSource(data)), sink, {
          parentPath: { relativePath: chain[chain.length - 1]!.split('/').pop()! },
        }),
      );
      await parent.close();
      chain.push(path);
    }
    expect(libvhdiDigest(chain.slice(0, 1))).toBe(sha256(root));
    expect(libvhdiDigest(chain.slice(0, 2))).toBe(sha256(middle));
    expect(libvhdiDigest(chain)).toBe(sha256(leaf));
    const ours = await openVhdFile(chain[2]!);
    expect(sha256(await ours.read(0, size))).toBe(sha256(leaf));
    await ours.close();

    await mergeVhdFile(chain[2]!);
    expect(libvhdiDigest(chain.slice(0, 2))).toBe(sha256(leaf));
    expect(libvhdiDigest(chain)).toBe(sha256(leaf));
  });

  it('agrees on fixed and dynamic disks', async () => {
    const data = pattern(3 * MiB);
    for (const type of ['fixed', 'dynamic'] as const) {
      const path = await write(join(dir, `plain-${type}.vhd`), (sink) =>
        convertDisk(rawDisk(new MemoryByteSource(data)), sink, { type }),
      );
      expect(libvhdiDigest([path])).toBe(sha256(data));
    }
  });
});
