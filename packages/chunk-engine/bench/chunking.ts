// Chunking throughput on one core: FastCDC 2020 over random data, sync core and streaming wrapper.
// Run: node packages/chunk-engine/bench/chunking.ts [data MiB, default 512] [piece MiB, default 8]
import { randomFillSync } from 'node:crypto';
import { FastCdc, StreamingChunker } from '../src/index.ts';

const mib = Number(process.argv[2] ?? 512);
const pieceSize = Number(process.argv[3] ?? 8) * 1024 * 1024;
const data = new Uint8Array(mib * 1024 * 1024);
for (let offset = 0; offset < data.length; offset += 65536)
  randomFillSync(data.subarray(offset, offset + 65536));

function measure(run: () => number): { gbps: number; chunks: number } {
  let best = 0;
  let chunks = 0;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    chunks = run();
    best = Math.max(best, data.length / ((performance.now() - start) * 1e6));
  }
  return { gbps: best, chunks };
}

const configurations = [
  { label: 'default 512K/1M/8M NC1', options: {} },
  { label: '512K/1M/8M NC0', options: { level: 0 } },
  { label: '512K/1M/8M NC2', options: { level: 2 } },
  { label: '512K/1M/8M NC3', options: { level: 3 } },
  { label: '16K/64K/256K NC1', options: { minSize: 16384, avgSize: 65536, maxSize: 262144 } },
  { label: '4K/16K/64K NC1', options: { minSize: 4096, avgSize: 16384, maxSize: 65536 } },
];

console.log(
  `FastCDC 2020 on ${mib} MiB of random data, one thread, best of 5 (GB/s = 10^9 B/s); streaming = StreamingChunker fed like a file read (reserve + copy + commit)`,
);
for (const { label, options } of configurations) {
  const cdc = new FastCdc(options);
  const sync = measure(() => {
    let count = 0;
    for (let offset = 0; offset < data.length; count++) offset += cdc.cut(data, offset);
    return count;
  });
  // As backupDirectory reads a file: each piece lands in a reserve()d view (the copy a read() makes).
  const streamed = measure(() => {
    const chunker = new StreamingChunker(cdc);
    let count = 0;
    for (let offset = 0; offset < data.length; offset += pieceSize) {
      const piece = data.subarray(offset, offset + pieceSize);
      chunker.reserve(piece.length).set(piece);
      count += chunker.commit(piece.length).length;
    }
    return count + chunker.commit(0, true).length;
  });
  console.log(
    `${label.padEnd(24)} cut(): ${sync.gbps.toFixed(2)} GB/s  streaming (${pieceSize >> 20} MiB pieces): ${streamed.gbps.toFixed(2)} GB/s  avg chunk ${Math.round(data.length / sync.chunks / 1024)} KiB`,
  );
}
