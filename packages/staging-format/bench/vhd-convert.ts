/**
 * Raw → dynamic VHD → raw, ours against `qemu-img convert`, side by side on the same files.
 *
 *   node packages/staging-format/bench/vhd-convert.ts [--size-gib 2] [--runs 3] [--sparse]
 *
 * Creates a raw image under the OS temp folder (half of its 2 MiB blocks data, half zeros), runs each
 * conversion with both tools `--runs` times in alternation, prints the best wall time, throughput
 * (of the virtual size), best CPU time (user + system) and peak RSS of each, and deletes everything. Ours runs from the built package when
 * there is one (as users run it), from source otherwise. Needs qemu-img and /usr/bin/time.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const MiB = 1024 * 1024;
const useDist = existsSync(new URL('../dist/node.js', import.meta.url));
const entry = (name: string) =>
  new URL(useDist ? `../dist/${name}.js` : `../src/${name}.ts`, import.meta.url).href;

/** One conversion in a process of its own, so that /usr/bin/time measures it alone. */
const worker = `
const { convertDisk, rawDisk } = await import(${JSON.stringify(entry('index'))});
const { FileByteSink, FileByteSource, openVhdFile } = await import(${JSON.stringify(entry('node'))});
const [type, input, output] = process.argv.slice(-3);
const disk = type === 'dynamic' ? rawDisk(await FileByteSource.open(input)) : await openVhdFile(input);
const sink = await FileByteSink.open(output, 'overwrite');
await convertDisk(disk, sink, { type });
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-gib': { type: 'string', default: '2' },
      runs: { type: 'string', default: '3' },
      sparse: { type: 'boolean', default: false },
    },
  });
  const size = Number(values['size-gib']) * 1024 * MiB;
  const runs = Number(values.runs);
  const dir = await mkdtemp(join(tmpdir(), 'vhd-bench-'));
  try {
    const raw = join(dir, 'in.raw');
    await makeRaw(raw, size, values.sparse === true);
    const vhd = join(dir, 'ours.vhd');
    timed(ours('dynamic', raw, vhd)); // the dynamic input both tools read back
    const qemu = ['qemu-img', 'convert'];
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
    const rows: string[] = [];
    for (const [step, tools] of Object.entries(steps)) {
      const best: Record<string, Measure> = {};
      for (let run = 0; run < runs; run++) {
        for (const [tool, command] of Object.entries(tools)) {
          const measure = timed(command);
          const previous = best[tool];
          best[tool] = {
            seconds: Math.min(previous?.seconds ?? Number.POSITIVE_INFINITY, measure.seconds),
            cpuSeconds: Math.min(
              previous?.cpuSeconds ?? Number.POSITIVE_INFINITY,
              measure.cpuSeconds,
            ),
            peakRssMiB: Math.max(previous?.peakRssMiB ?? 0, measure.peakRssMiB),
          };
        }
      }
      for (const [tool, { seconds, cpuSeconds, peakRssMiB }] of Object.entries(best))
        rows.push(
          `| ${step} | ${tool} | ${seconds.toFixed(2)} | ${(size / MiB / seconds).toFixed(0)} | ${cpuSeconds.toFixed(2)} | ${peakRssMiB.toFixed(0)} |`,
        );
    }
    console.log(
      `${size / 1024 / MiB} GiB raw, half zeros${values.sparse === true ? ' (sparse file)' : ''}; best of ${runs} runs each, alternating; ours from ${useDist ? 'dist' : 'source'}`,
    );
    console.log('| conversion | tool | wall s | MiB/s | CPU s | peak RSS MiB |');
    console.log('|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
