// `offline-seed stage` / `restore` against `restic backup` / `restore` on a working copy of a real
// tree, side by side in one run: a full backup, "a day of changes" and the incremental, then both
// restores into fresh directories, and a check of every stored byte (`verify` against
// `restic check --read-data`). Needs the built CLI (`npx turbo run build --filter=@offline-seed/cli...`),
// restic (repository version 2, default compression) and GNU time.
//
// Run: node packages/cli/bench/stage-vs-restic.ts [DIR=/usr/lib] [--limit SIZE] [--seed N]
//        [--scratch DIR] [--keep] [--restic-first]
// Each step runs offline-seed, then restic; --restic-first swaps them, to see what the order costs
// (a restore creates tens of thousands of files, and the file system's state after the first
// tool's files can slow the second).
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    limit: { type: 'string' },
    seed: { type: 'string', default: '1' },
    scratch: { type: 'string' },
    keep: { type: 'boolean' },
    'restic-first': { type: 'boolean' },
  },
});
const sourceTree = positionals[0] ?? '/usr/lib';
const limitBytes = values.limit === undefined ? Number.POSITIVE_INFINITY : parseBytes(values.limit);
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const scratch = await fs.mkdtemp(join(values.scratch ?? tmpdir(), 'stage-vs-restic-'));
const passphrase = 'benchmark passphrase, not a secret';
const env = {
  ...process.env,
  OFFLINE_SEED_PASSPHRASE: passphrase,
  RESTIC_PASSWORD: passphrase,
  RESTIC_CACHE_DIR: join(scratch, 'restic-cache'),
};
const paths = {
  source: join(scratch, 'source'),
  staging: join(scratch, 'staging'),
  repo: join(scratch, 'restic-repo'),
  ourRestore: join(scratch, 'restore-offline-seed'),
  resticRestore: join(scratch, 'restore-restic'),
};

function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?)?$/i.exec(text);
  if (!match) throw new RangeError(`--limit expected a size like 2GiB, got ${text}`);
  const power = ' KMGT'.indexOf((match[2] ?? ' ')[0]!.toUpperCase());
  return Math.round(Number(match[1]) * 1024 ** Math.max(0, power));
}

/** A seeded PRNG (mulberry32), so that every run applies the same changes. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Copies the regular files under `from` (up to `limitBytes`), keeping the tree's layout. */
async function copyTree(from: string, to: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (bytes >= limitBytes) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const target = join(to, relative(from, path));
        await fs.mkdir(dirname(target), { recursive: true });
        const copied = await fs.copyFile(path, target).then(
          () => true,
          () => false,
        );
        if (!copied) continue;
        files++;
        bytes += (await fs.stat(target)).size;
      }
    }
  };
  await walk(from);
  return { files, bytes };
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.isFile()) files.push(join(d, e.name));
    }
  };
  await walk(dir);
  return files;
}

function randomBytes(length: number): Uint8Array {
  return randomFillSync(new Uint8Array(length));
}

/**
 * "A day of changes", deterministic with `seed`: 2 % of files edited in place (a random range
 * overwritten), 1 % appended to, 1 % deleted, and new files worth 1 % of the count added.
 */
async function applyDayOfChanges(dir: string, seed: number) {
  const next = random(seed);
  const files = await listFiles(dir);
  const pick = (fraction: number) => files.filter(() => next() < fraction);
  const counts = { edited: 0, appended: 0, deleted: 0, added: 0, bytesWritten: 0 };
  for (const file of pick(0.02)) {
    const { size } = await fs.stat(file).catch(() => ({ size: 0 }));
    if (size === 0) continue;
    const length = Math.max(1, Math.min(size, Math.floor(4096 + next() * 64 * 1024)));
    const handle = await fs.open(file, 'r+');
    await handle.write(randomBytes(length), 0, length, Math.floor(next() * (size - length + 1)));
    await handle.close();
    counts.edited++;
    counts.bytesWritten += length;
  }
  for (const file of pick(0.01)) {
    const length = Math.floor(1024 + next() * 256 * 1024);
    await fs.appendFile(file, randomBytes(length));
    counts.appended++;
    counts.bytesWritten += length;
  }
  for (const file of pick(0.01)) {
    await fs.rm(file, { force: true });
    counts.deleted++;
  }
  const addCount = Math.ceil(files.length * 0.01);
  for (let i = 0; i < addCount; i++) {
    const near = files[Math.floor(next() * files.length)]!;
    const length = Math.floor(next() * 1024 * 1024);
    await fs.mkdir(dirname(near), { recursive: true });
    await fs.writeFile(`${near}.new-${i}`, randomBytes(length));
    counts.added++;
    counts.bytesWritten += length;
  }
  return counts;
}

interface Measurement {
  tool: string;
  step: string;
  wallSeconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  storedBytes?: number;
}

/** Runs a command under GNU time; returns wall, user+sys CPU and peak RSS. */
function timed(tool: string, step: string, command: string[]): Measurement {
  const timeFile = join(scratch, 'time.txt');
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-v', '-o', timeFile, ...command], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (result.status !== 0 && !(tool === 'offline-seed' && result.status === 3)) {
    throw new Error(
      `${command.join(' ')} exited ${result.status}: ${result.stderr.toString().slice(-2000)}`,
    );
  }
  const report = spawnSync('cat', [timeFile]).stdout.toString();
  const field = (name: string) =>
    Number(new RegExp(`${name}: ([\\d.]+)`).exec(report)?.[1] ?? Number.NaN);
  return {
    tool,
    step,
    wallSeconds,
    cpuSeconds: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'),
    maxRssMiB: field('Maximum resident set size \\(kbytes\\)') / 1024,
  };
}

/** Apparent bytes of everything under `dir` (`du -sb`). */
function storedBytes(dir: string): number {
  return Number(spawnSync('du', ['-sb', dir]).stdout.toString().split('\t')[0]);
}

function warmCache(dirs: string[]): void {
  // Reads the inputs once so both tools start from a warm page cache, then writes back what earlier
  // steps left dirty, so that neither tool's fsyncs wait behind the other's (or the changes') data.
  const quoted = dirs.map((dir) => `"${dir}"`).join(' ');
  spawnSync('sh', ['-c', `find ${quoted} -type f -print0 | xargs -0 cat > /dev/null; sync`]);
}

const header = `${'step'.padEnd(13)}${'tool'.padEnd(14)}${'wall s'.padStart(8)}${'cpu s'.padStart(8)}${'peak RSS MiB'.padStart(14)}${'stored MiB'.padStart(12)}`;

function formatRow(r: Measurement): string {
  const stored = r.storedBytes === undefined ? '' : (r.storedBytes / 2 ** 20).toFixed(1);
  return `${r.step.padEnd(13)}${r.tool.padEnd(14)}${r.wallSeconds.toFixed(1).padStart(8)}${r.cpuSeconds.toFixed(1).padStart(8)}${r.maxRssMiB.toFixed(0).padStart(14)}${stored.padStart(12)}`;
}

const node = process.execPath;
const rows: Measurement[] = [];
try {
  console.log(`copying the regular files of ${sourceTree} to ${paths.source} …`);
  const copied = await copyTree(sourceTree, paths.source);
  console.log(`${copied.files} files, ${(copied.bytes / 2 ** 30).toFixed(2)} GiB`);
  spawnSync('restic', ['init', '--repository-version', '2', '--repo', paths.repo], { env });

  const stage = ['stage', paths.source, '--staging', paths.staging, '--json'];
  const backup = ['--repo', paths.repo, 'backup', '--quiet', paths.source];
  /**
   * Times both tools on the same step, each after reading `inputs` into the page cache (both tools'
   * inputs, whichever runs) and a `sync`.
   */
  const sideBySide = (
    step: string,
    ours: string[],
    theirs: string[],
    inputs: string[],
    stores?: string[],
  ) => {
    const runs = [
      { tool: 'offline-seed', command: [node, bin, ...ours], store: stores?.[0] },
      { tool: 'restic', command: ['restic', ...theirs], store: stores?.[1] },
    ];
    if (values['restic-first']) runs.reverse();
    for (const { tool, command, store } of runs) {
      warmCache(inputs);
      const before = store === undefined ? 0 : storedBytes(store);
      const row = timed(tool, step, command);
      if (store !== undefined) row.storedBytes = storedBytes(store) - before;
      rows.push(row);
      console.log(formatRow(row));
    }
  };
  const stores = [paths.staging, paths.repo];
  sideBySide('full backup', stage, backup, [paths.source], stores);

  const changes = await applyDayOfChanges(paths.source, Number(values.seed));
  console.log(
    `a day of changes: ${changes.edited} edited, ${changes.appended} appended, ${changes.deleted} deleted, ${changes.added} added (${(changes.bytesWritten / 2 ** 20).toFixed(1)} MiB written)`,
  );
  sideBySide('incremental', stage, backup, [paths.source], stores);
  // Volumes are written past the page cache and restic's packs through it: both are read in first.
  sideBySide(
    'restore',
    ['restore', '--staging', paths.staging, '--target', paths.ourRestore],
    ['--repo', paths.repo, 'restore', 'latest', '--target', paths.resticRestore],
    [paths.staging, paths.repo],
  );
  // Every block and blob read back and authenticated, against restic's full data check.
  sideBySide(
    'verify',
    ['verify', '--staging', paths.staging, '--json'],
    ['--repo', paths.repo, 'check', '--read-data', '--quiet'],
    [paths.staging, paths.repo],
  );
  const same = spawnSync('diff', ['-rq', paths.source, paths.ourRestore]);
  console.log(
    same.status === 0
      ? 'offline-seed restore: identical to the source'
      : `offline-seed restore DIFFERS:\n${same.stdout.toString().slice(0, 2000)}`,
  );

  console.log(`\n${header}`);
  for (const row of rows) console.log(formatRow(row));
  console.log(
    '\nratios offline-seed / restic (targets: time ≤ 0.5 full, ≤ 0.7 incremental, ≤ 0.5 restore)',
  );
  for (const step of ['full backup', 'incremental', 'restore', 'verify']) {
    const [ours, theirs] = ['offline-seed', 'restic'].map(
      (tool) => rows.find((r) => r.step === step && r.tool === tool)!,
    );
    const stored =
      ours!.storedBytes === undefined
        ? ''
        : `, stored ${(ours!.storedBytes / theirs!.storedBytes!).toFixed(2)}`;
    console.log(
      `${step.padEnd(13)} time ${(ours!.wallSeconds / theirs!.wallSeconds).toFixed(2)}, peak RSS ${(ours!.maxRssMiB / theirs!.maxRssMiB).toFixed(2)}${stored}`,
    );
  }
} finally {
  if (values.keep) console.log(`kept ${scratch}`);
  else await fs.rm(scratch, { recursive: true, force: true });
}
