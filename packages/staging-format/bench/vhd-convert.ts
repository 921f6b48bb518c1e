/**
 * Raw → dynamic VHD → raw, ours against `qemu-img convert`, side by side on the same files.
 *
 *   node packages/staging-format/bench/vhd-convert.ts [--size-gib 2] [--runs 7] [--sparse] [--fsync] [--source]
 *
 * Creates a raw image under the OS temp folder (half of its 2 MiB blocks data, half zeros) and runs
 * each conversion with both tools `--runs` times, interleaved (the tool that goes first alternates),
 * each run in a process of its own under /usr/bin/time, writing a new file. Prints, per tool, the
 * median and best wall time and CPU time (user + system: the steadier figure when other work loads
 * the machine) and the peak RSS, then deletes everything.
 *
 * Like for like: `qemu-img convert` does not flush its output by default (cache mode `unsafe`), and
 * neither does {@link convertDisk}. With `--fsync` ours calls `sink.sync()` before closing (as the
 * CLI does) and qemu-img runs with `-t writeback`, which flushes on close. Ours runs from the built
 * package when there is one (as users run it; build first), from source with `--source` or without
 * a build (loading the sources costs about 0.2 s of CPU), opening its input as the CLI does
 * (`syncReadLimit` 4 MiB: block reads on the main thread). Needs qemu-img and /usr/bin/time.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const MiB = 1024 * 1024;
const { values } = parseArgs({
  options: {
    'size-gib': { type: 'string', default: '2' },
    runs: { type: 'string', default: '7' },
    sparse: { type: 'boolean', default: false },
    fsync: { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
  },
});
const useDist = !values.source && existsSync(new URL('../dist/node.js', import.meta.url));
const entry = (name: string) =>
  new URL(useDist ? `../dist/${name}.js` : `../src/${name}.ts`, import.meta.url).href;

/** One conversion in a process of its own, so that /usr/bin/time measures it alone. */
const worker = `
const { convertDisk, rawDisk } = await import(${JSON.stringify(entry('index'))});
const { FileByteSink, FileByteSource, openVhdFile } = await import(${JSON.stringify(entry('node'))});
const [type, input, output] = process.argv.slice(-3);
// Inputs opened as the CLI opens them: block reads synchronous.
const reads = { syncReadLimit: 4 * 1024 * 1024 };
const disk = type === 'dynamic' ? rawDisk(await FileByteSource.open(input, reads)) : await openVhdFile(input, reads);
const sink = await FileByteSink.open(output, 'overwrite');
await convertDisk(disk, sink, { type });
if (${values.fsync}) await sink.sync();
await sink.close();
await disk.close();
`;
const ours = (type: 'dynamic' | 'raw', input: string, output: string) => [
  process.execPath,
  '--input-type=module',
  '-e',
  worker,
  type,
  input,
  output,
];

async function makeRaw(path: string, size: number, sparse: boolean): Promise<void> {
  const file = await open(path, 'w');
  const data = randomBytes(2 * MiB);
  const zeros = new Uint8Array(2 * MiB);
  // Alternate runs of data and zeros of varying length, half and half overall. Zeros are written
  // (as in an image read off a disk) unless --sparse: then qemu-img skips the holes via SEEK_DATA.
  for (let offset = 0, block = 0; offset < size; offset += 2 * MiB, block++) {
    const isData = (block * 7) % 4 < 2;
    if (isData || !sparse)
      await file.write(isData ? data : zeros, 0, Math.min(2 * MiB, size - offset), offset);
  }
  await file.truncate(size);
  await file.close();
}

interface Measure {
  seconds: number;
  /** User plus system CPU time: steadier than wall time on a shared machine. */
  cpuSeconds: number;
  peakRssMiB: number;
}

function timed([command, ...args]: string[]): Measure {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', command!, ...args], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const [seconds, kib, user, system] = result.stderr
    .trim()
    .split('\n')
    .pop()!
    .split(' ')
    .map(Number) as [number, number, number, number];
  return { seconds, cpuSeconds: user + system, peakRssMiB: kib / 1024 };
}

function median(samples: number[]): number {
  const sorted = samples.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const loadAverage = () => loadavg()[0]!.toFixed(1);

async function main(): Promise<void> {
  const size = Number(values['size-gib']) * 1024 * MiB;
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(size) || size <= 0 || size % (2 * MiB) !== 0)
    throw new RangeError('--size-gib expected a positive whole number of 2 MiB blocks');
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError('--runs expected at least 1');
  const dir = await mkdtemp(join(tmpdir(), 'vhd-bench-'));
  try {
    const raw = join(dir, 'in.raw');
    await makeRaw(raw, size, values.sparse);
    const vhd = join(dir, 'ours.vhd');
    timed(ours('dynamic', raw, vhd)); // the dynamic input both tools read back
    const qemu = ['qemu-img', 'convert', ...(values.fsync ? ['-t', 'writeback'] : [])];
    const steps: Record<string, Record<string, string[]>> = {
      'raw → dynamic': {
        ours: ours('dynamic', raw, join(dir, 'o.vhd')),
        'qemu-img': [
          ...qemu,
          '-f',
          'raw',
          '-O',
          'vpc',
          '-o',
          'subformat=dynamic,force_size=on',
          raw,
          join(dir, 'q.vhd'),
        ],
      },
      'dynamic → raw': {
        ours: ours('raw', vhd, join(dir, 'o.raw')),
        'qemu-img': [...qemu, '-f', 'vpc', '-O', 'raw', vhd, join(dir, 'q.raw')],
      },
    };
    const loadBefore = loadAverage();
    const rows: string[] = [];
    for (const [step, tools] of Object.entries(steps)) {
      const names = Object.keys(tools);
      const measures: Record<string, Measure[]> = Object.fromEntries(names.map((n) => [n, []]));
      for (let run = 0; run < runs; run++) {
        // Alternate which tool goes first, so that neither always inherits the other's dirty pages.
        const order = run % 2 === 0 ? names : names.toReversed();
        for (const tool of order) {
          // A new file each time, as a conversion normally writes: neither tool pays for dropping
          // the previous run's output (1 GiB of it possibly still being written back).
          await rm(tools[tool]!.at(-1)!, { force: true });
          measures[tool]!.push(timed(tools[tool]!));
        }
      }
      const medianOf = (tool: string, key: 'seconds' | 'cpuSeconds') =>
        median(measures[tool]!.map((m) => m[key]));
      for (const tool of names) {
        const list = measures[tool]!;
        const wall = medianOf(tool, 'seconds');
        const cpu = medianOf(tool, 'cpuSeconds');
        const ratio = (key: 'seconds' | 'cpuSeconds') =>
          (medianOf(tool, key) / medianOf('qemu-img', key)).toFixed(2);
        rows.push(
          `| ${step} | ${tool} | ${wall.toFixed(2)} (${Math.min(...list.map((m) => m.seconds)).toFixed(2)}) | ${(size / MiB / wall).toFixed(0)} | ${cpu.toFixed(2)} (${Math.min(...list.map((m) => m.cpuSeconds)).toFixed(2)}) | ${ratio('seconds')} / ${ratio('cpuSeconds')} | ${Math.max(...list.map((m) => m.peakRssMiB)).toFixed(0)} |`,
        );
      }
    }
    console.log(
      `${size / 1024 / MiB} GiB raw, half zeros${values.sparse ? ' (sparse file)' : ''}${values.fsync ? ', output flushed' : ', output not flushed'}; ${runs} runs each, interleaved; ours from ${useDist ? 'dist' : 'source'}; load average ${loadBefore} → ${loadAverage()} on ${availableParallelism()} CPUs`,
    );
    console.log(
      '| conversion | tool | wall s median (best) | MiB/s | CPU s median (best) | wall / CPU vs qemu-img | peak RSS MiB |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
