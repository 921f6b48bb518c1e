import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import {
  type ChunkerParams,
  chunkStream,
  defaultChunkerParams,
  FastCdc,
} from '@offline-seed/chunk-engine';
import type { Command, CommandContext, OptionValues } from '../command.ts';
import { printResult } from '../io.ts';
import { expectPositionals, integerOption, parseSize, stringOption, usage } from '../options.ts';

/** One cut as `chunk --json` prints it. */
interface CutRow {
  offset: number;
  length: number;
  /** The Gear hash the `fastcdc` crate reports (decimal; it does not fit a JSON number). */
  hash: string;
  /** SHA-256 of the chunk: equal digests are chunks that would be stored once. */
  sha256: string;
}

interface ChunkReport {
  file: string;
  params: Omit<ChunkerParams, 'seed'> & { seed: string };
  chunks: CutRow[];
  summary: {
    count: number;
    bytes: number;
    uniqueChunks: number;
    uniqueBytes: number;
    minLength: number;
    maxLength: number;
    avgLength: number;
  };
}

function chunkerFrom(values: OptionValues): FastCdc {
  const sizes = { min: 'minSize', avg: 'avgSize', max: 'maxSize' } as const;
  const options: Partial<ChunkerParams> = {};
  for (const [flag, key] of Object.entries(sizes)) {
    const text = stringOption(values, flag);
    if (text !== undefined) options[key] = parseSize(text, flag, 'chunk');
  }
  const level = integerOption(values, 'level', 'chunk', [0, 3]);
  if (level !== undefined) options.level = level;
  const seed = stringOption(values, 'seed');
  if (seed !== undefined) {
    if (!/^(?:\d+|0x[0-9a-f]+)$/i.test(seed))
      throw usage('chunk', `--seed expects a decimal or 0x-hex integer, got "${seed}"`);
    options.seed = BigInt(seed);
  }
  // A lone --avg scales the other defaults with it (min = avg/2, max = 8×avg), clamped to the
  // crate's limits, so `--avg 64KiB` alone is a valid command.
  if (options.avgSize !== undefined) {
    options.minSize ??= Math.max(64, Math.min(options.avgSize / 2, 1024 * 1024));
    options.maxSize ??= Math.max(1024, Math.min(options.avgSize * 8, 16 * 1024 * 1024));
  }
  try {
    return new FastCdc(options);
  } catch (error) {
    if (error instanceof RangeError) throw usage('chunk', error.message);
    throw error;
  }
}

async function run(context: CommandContext): Promise<number> {
  const [file] = expectPositionals(context, ['FILE'], 'chunk') as [string];
  const cdc = chunkerFrom(context.values);
  const stream = createReadStream(resolve(context.io.cwd, file), {
    highWaterMark: 4 * 1024 * 1024,
  });
  const chunks: CutRow[] = [];
  const seen = new Set<string>();
  let uniqueBytes = 0;
  for await (const chunk of chunkStream(stream, { ...cdc.params, abortSignal: context.signal })) {
    const sha256 = createHash('sha256').update(chunk.data).digest('hex');
    if (!seen.has(sha256)) {
      seen.add(sha256);
      uniqueBytes += chunk.length;
    }
    chunks.push({
      offset: chunk.offset,
      length: chunk.length,
      hash: chunk.hash.toString(),
      sha256,
    });
  }
  const lengths = chunks.map((c) => c.length);
  const bytes = lengths.reduce((sum, n) => sum + n, 0);
  const report: ChunkReport = {
    file,
    params: { ...cdc.params, seed: cdc.params.seed.toString() },
    chunks,
    summary: {
      count: chunks.length,
      bytes,
      uniqueChunks: seen.size,
      uniqueBytes,
      minLength: chunks.length ? Math.min(...lengths) : 0,
      maxLength: chunks.length ? Math.max(...lengths) : 0,
      avgLength: chunks.length ? Math.round(bytes / chunks.length) : 0,
    },
  };
  printResult(context.io, context.json, report, renderReport);
  return 0;
}

function renderReport({ params, chunks, summary }: ChunkReport): string {
  const rows = chunks.map(
    (c) =>
      `${String(c.offset).padStart(14)} ${String(c.length).padStart(9)}  ${c.hash.padStart(20)}  ${c.sha256.slice(0, 16)}`,
  );
  return [
    `FastCDC 2020, min ${params.minSize}, avg ${params.avgSize}, max ${params.maxSize}, level ${params.level}, seed ${params.seed}`,
    `${'offset'.padStart(14)} ${'length'.padStart(9)}  ${'hash'.padStart(20)}  sha256`,
    ...rows,
    `${summary.count} chunks, ${summary.bytes} bytes, lengths ${summary.minLength}–${summary.maxLength} (average ${summary.avgLength}); ${summary.uniqueChunks} unique (${summary.uniqueBytes} bytes)`,
  ].join('\n');
}

const defaults = defaultChunkerParams;

export const chunkCommand: Command = {
  name: 'chunk',
  summary: 'Show the content-defined chunks of a file',
  args: 'FILE',
  options: {
    min: {
      type: 'string',
      valueName: 'SIZE',
      description: `Smallest chunk (64 B–1 MiB; default ${defaults.minSize / 1024} KiB)`,
    },
    avg: {
      type: 'string',
      valueName: 'SIZE',
      description: `Average chunk (256 B–4 MiB; default ${defaults.avgSize / 1024} KiB)`,
    },
    max: {
      type: 'string',
      valueName: 'SIZE',
      description: `Largest chunk (1 KiB–16 MiB; default ${defaults.maxSize / 1024} KiB)`,
    },
    level: {
      type: 'string',
      valueName: 'L',
      description: `Normalized chunking level 0–3 (default ${defaults.level})`,
    },
    seed: {
      type: 'string',
      valueName: 'S',
      description: 'Gear table seed, decimal or 0x-hex (default 0)',
    },
  },
  details: [
    'Cuts are those of FastCDC 2020 exactly as the `fastcdc` Rust crate (v2020) makes them;',
    '"hash" is the crate\'s Gear hash at the cut, "sha256" the chunk digest (equal digests dedup).',
    'Sizes take bytes or KiB/MiB suffixes; --avg alone sets min to avg/2 and max to 8×avg.',
    '',
    'Example:',
    '  offline-seed chunk disk.img --avg 64KiB --level 2 --json',
  ].join('\n'),
  run,
};
