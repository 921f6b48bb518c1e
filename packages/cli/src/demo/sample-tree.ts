import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const KiB = 1024;
const MiB = 1024 * KiB;
const words =
  'backup seed drive azure volume chunk policy restore verify manifest blob page import'.split(' ');

/** A small deterministic generator (xorshift32), so every demo run stages the same bytes. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

function text(next: () => number, bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const word = words[Math.floor(next() * words.length)]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, bytes);
}

function noise(next: () => number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const view = new Uint32Array(out.buffer);
  for (let i = 0; i < view.length; i++) view[i] = next() * 0x1_0000_0000;
  return out;
}

/**
 * Writes a sample tree to `root`: text documents (compressible), media (incompressible, one file
 * duplicated under another name), a mostly-empty disk image, an empty directory and a symlink.
 * Returns the number of bytes of regular files.
 */
export async function writeSampleTree(root: string): Promise<number> {
  const next = random(20_261_123);
  let bytes = 0;
  const put = async (path: string, data: string | Uint8Array) => {
    await writeFile(join(root, path), data);
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  };
  await mkdir(join(root, 'docs', 'reports'), { recursive: true });
  await mkdir(join(root, 'media'), { recursive: true });
  await mkdir(join(root, 'vm'), { recursive: true });
  await mkdir(join(root, 'empty'), { recursive: true });
  for (let i = 0; i < 120; i++) {
    const folder = i % 3 === 0 ? 'docs/reports' : 'docs';
    await put(
      `${folder}/note-${String(i).padStart(3, '0')}.txt`,
      text(next, 1 * KiB + Math.floor(next() * 63 * KiB)),
    );
  }
  const photo = noise(next, 6 * MiB);
  await put('media/photo.raw', photo);
  await put('media/photo-copy.raw', photo);
  await put('media/video.raw', noise(next, 10 * MiB));
  const disk = new Uint8Array(32 * MiB);
  disk.set(noise(next, 2 * MiB), 4 * MiB);
  await put('vm/disk.img', disk);
  await symlink('docs/note-001.txt', join(root, 'latest-note'));
  return bytes;
}

/** "A day of changes": edits, an append, a new file and a deletion. */
export async function changeSampleTree(root: string): Promise<void> {
  const next = random(7);
  for (const i of [2, 5, 8])
    await writeFile(
      join(root, 'docs', `note-${String(i).padStart(3, '0')}.txt`),
      text(next, 8 * KiB),
    );
  await writeFile(join(root, 'docs', 'note-004.txt'), `\n${text(next, 2 * KiB)}`, { flag: 'a' });
  await writeFile(join(root, 'docs', 'note-new.txt'), text(next, 16 * KiB));
  await rm(join(root, 'docs', 'note-007.txt'));
}
