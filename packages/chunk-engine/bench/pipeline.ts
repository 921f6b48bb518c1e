// The full pipeline (read, FastCDC, SHA-256/HMAC ids, zstd, AES-256-GCM, dedup, write to disk)
// on a real tree, against `restic backup` on the same tree, back to back in one run.
// Run: node packages/chunk-engine/bench/pipeline.ts [DIR=/usr/lib] [--workers N] [--level L]
//      [--max-in-flight MiB] [--skip-restic] [--restore]
//      (--restore also times restoring the snapshot from the packs; the figures include peak RSS)
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BlobCodec,
  type BlobSink,
  type BlobSource,
  ChunkEngineError,
  createKeys,
  type SinkBlob,
  toHex,
  unlockKeys,
} from '../src/index.ts';
import { backupDirectory, restoreSnapshot } from '../src/node.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workers: { type: 'string' },
    'max-in-flight': { type: 'string' },
    'skip-restic': { type: 'boolean' },
    level: { type: 'string' },
    restore: { type: 'boolean' },
  },
});
const dir = positionals[0] ?? '/usr/lib';
const passphrase = 'benchmark passphrase, not a secret';
const scratch = await fs.mkdtemp(join(tmpdir(), 'chunk-engine-bench-'));

/** Appends blobs to 16 MiB pack files on disk and fsyncs each pack, as a staging volume would. */
class PackFileSink implements BlobSink, BlobSource {
  readonly #where = new Map<
    string,
    Omit<SinkBlob, 'id' | 'bytes'> & { pack: number; offset: number; length: number }
  >();
  #packOffset = 0;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #file: fs.FileHandle | undefined;
  #packs = 0;
  bytes = 0;

  has(id: Uint8Array): boolean {
    return this.#where.has(toHex(id));
  }

  async get(id: Uint8Array): Promise<SinkBlob> {
    const where = this.#where.get(toHex(id));
    if (where === undefined) throw new ChunkEngineError('BLOB_NOT_FOUND', `no blob ${toHex(id)}`);
    const file = await fs.open(join(scratch, `pack-${where.pack}`), 'r');
    try {
      const bytes = new Uint8Array(where.length);
      await file.read(bytes, 0, where.length, where.offset);
      return { id, type: where.type, rawLength: where.rawLength, bytes };
    } finally {
      await file.close();
    }
  }

  async put(blob: SinkBlob): Promise<void> {
    const key = toHex(blob.id);
    if (this.#where.has(key)) return;
    const { type, rawLength } = blob;
    this.#where.set(key, {
      type,
      rawLength,
      pack: this.#packs,
      offset: this.#packOffset,
      length: blob.bytes.length,
    });
    this.#packOffset += blob.bytes.length;
    this.#pending.push(blob.bytes);
    this.#pendingBytes += blob.bytes.length;
    this.bytes += blob.bytes.length;
    if (this.#pendingBytes >= 16 * 1024 * 1024) await this.#writePack();
  }

  async flush(): Promise<void> {
    await this.#writePack();
    await this.#file?.sync();
  }

  async close(): Promise<void> {
    await this.#file?.close();
  }

  async #writePack(): Promise<void> {
    if (this.#pending.length === 0) return;
    const blobs = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#packOffset = 0;
    await this.#file?.sync();
    await this.#file?.close();
    this.#file = await fs.open(join(scratch, `pack-${this.#packs++}`), 'w');
    await this.#file.writev(blobs);
  }
}

function measureCpu<T>(run: () => Promise<T>): Promise<{ result: T; wallS: number; cpuS: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  return run().then((result) => {
    const used = process.cpuUsage(cpu);
    return {
      result,
      wallS: (performance.now() - start) / 1000,
      cpuS: (used.user + used.system) / 1e6,
    };
  });
}

async function warmPageCache(root: string): Promise<number> {
  let bytes = 0;
  for (const entry of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    try {
      bytes += (await fs.readFile(join(entry.parentPath, entry.name))).length;
    } catch {
      // unreadable: both tools skip it
    }
  }
  return bytes;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
console.log(`tree ${dir}, ${availableParallelism()} cores; warming the page cache…`);
const treeBytes = await warmPageCache(dir);
console.log(`${mb(treeBytes)} MB in regular files`);

const { params } = await createKeys(passphrase);
const sink = new PackFileSink();
const ours = await measureCpu(async () => {
  // Unlocking (scrypt N=2^17) is inside the timing, as restic opens its key inside its run.
  const keys = await unlockKeys(passphrase, params);
  const level = values.level === undefined ? undefined : Number(values.level);
  return backupDirectory(dir, {
    sink,
    codec: new BlobCodec({ keys, compressionLevel: level }),
    workers: values.workers === undefined ? undefined : Number(values.workers),
    maxBytesInFlight:
      values['max-in-flight'] === undefined
        ? undefined
        : Number(values['max-in-flight']) * 1024 * 1024,
  });
});
await sink.close();
const s = ours.result.stats;
console.log(
  `chunk-engine: ${ours.wallS.toFixed(1)} s wall, ${(s.bytesRead / ours.wallS / 1e6).toFixed(0)} MB/s, ` +
    `cores used ${(ours.cpuS / ours.wallS).toFixed(2)} (cpu ${ours.cpuS.toFixed(1)} s), ` +
    `read ${mb(s.bytesRead)} MB, stored ${mb(sink.bytes)} MB in ${s.newBlobs} blobs, ${s.files} files, ${s.skipped} skipped, ` +
    `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
);

if (values.restore) {
  const target = join(scratch, 'restored');
  const restored = await measureCpu(async () =>
    restoreSnapshot({
      source: sink,
      codec: new BlobCodec({ keys: await unlockKeys(passphrase, params) }),
      rootId: ours.result.rootId,
      target,
    }),
  );
  const r = restored.result.stats;
  console.log(
    `chunk-engine restore: ${restored.wallS.toFixed(1)} s wall, ${(r.bytesWritten / restored.wallS / 1e6).toFixed(0)} MB/s, ` +
      `cores used ${(restored.cpuS / restored.wallS).toFixed(2)}, ${r.files} files, ${r.failed} failed`,
  );
  await fs.rm(target, { recursive: true, force: true });
}

if (!values['skip-restic']) {
  const repo = join(scratch, 'restic-repo');
  const env = {
    ...process.env,
    RESTIC_PASSWORD: passphrase,
    RESTIC_REPOSITORY: repo,
    RESTIC_CACHE_DIR: join(scratch, 'restic-cache'),
  };
  execFileSync('restic', ['init', '--repository-version', '2'], { env, stdio: 'ignore' });
  const timed = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'restic', 'backup', '--quiet', dir], {
    env,
    encoding: 'utf8',
  });
  const [wallS, userS, sysS] = timed.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [
    number,
    number,
    number,
  ];
  const stored = Number(
    execFileSync('du', ['-sb', join(repo, 'data')], { encoding: 'utf8' }).split('\t')[0],
  );
  console.log(
    `restic ${execFileSync('restic', ['version'], { encoding: 'utf8' }).split(' ')[1]}: ${wallS.toFixed(1)} s wall, ` +
      `${(treeBytes / wallS / 1e6).toFixed(0)} MB/s, cores used ${((userS + sysS) / wallS).toFixed(2)} ` +
      `(cpu ${(userS + sysS).toFixed(1)} s), stored ${mb(stored)} MB (repository v2, compression auto)`,
  );
  console.log(`throughput ratio chunk-engine / restic: ${(wallS / ours.wallS).toFixed(2)}×`);
}
await fs.rm(scratch, { recursive: true, force: true });
