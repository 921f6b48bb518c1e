// Throughput of the volume writer against the disk's sequential write speed, side by side:
//   node packages/staging-format/bench/volume-write.ts [GiB, default 4] [directory, default tmpdir] [--runs N, default 3]
// Each run times, one after the other on the same disk:
// 1. dd if=/dev/zero of=<dir>/dd.bin bs=1M count=<GiB*1024> conv=fsync
// 2. <GiB> of 1 MiB random blobs through StagingWriter.put, flush, then sealVolume (timed apart).
// A disk's speed drifts from one write to the next, so runs alternate and medians are compared.
// Target: writer ≥ 80 % of dd's speed; sealing < 5 % of the writer's time.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createStagingDirectory } from '../src/node.ts';

const MiB = 1024 * 1024;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '3' } },
});
const gib = Number(positionals[0] ?? 4);
const runs = Number(values.runs);
const blobCount = Math.round(gib * 1024);
const bytes = blobCount * MiB;
const root = await mkdtemp(join(positionals[1] ?? tmpdir(), 'volume-bench-'));

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mibps = (s: number) => (bytes / MiB / s).toFixed(0);

function timeDd(): number {
  const start = process.hrtime.bigint();
  const args = ['if=/dev/zero', `of=${join(root, 'dd.bin')}`, 'bs=1M', `count=${blobCount}`];
  execFileSync('dd', [...args, 'conv=fsync'], { stdio: 'ignore' });
  return seconds(start);
}

// Content does not matter to the writer: a few random buffers, a fresh id per blob.
const buffers = Array.from({ length: 4 }, () => {
  const buffer = new Uint8Array(MiB);
  for (let at = 0; at < MiB; at += 65536) crypto.getRandomValues(buffer.subarray(at, at + 65536));
  return buffer;
});

async function timeWriter() {
  const location = join(root, 'location');
  const writer = await createStagingDirectory(location, {
    job: {
      jobName: 'bench',
      subscriptionId: 's',
      resourceGroup: 'r',
      storageAccountId: 'a',
      container: 'c',
    },
    crypto: null,
    chunker: {},
  });
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let n = 0; n < blobCount; n++) {
    const id = new Uint8Array(32);
    crypto.getRandomValues(id.subarray(0, 16));
    new DataView(id.buffer).setUint32(28, n);
    await writer.put({ id, type: 'data', rawLength: MiB, bytes: buffers[n % buffers.length]! });
  }
  await writer.flush();
  const sealStart = process.hrtime.bigint();
  const volume = await writer.sealVolume();
  const sealSeconds = seconds(sealStart);
  const totalSeconds = seconds(start);
  // User + system time of every thread of this process (main, hashing workers, libuv pool).
  const cpu = process.cpuUsage(cpuStart);
  const indexBytesPerBlob = writer.indexBytesPerEntry;
  await writer.close();
  await rm(location, { recursive: true, force: true });
  return {
    totalSeconds,
    sealSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    indexBytesPerBlob,
    volumeSize: volume?.size,
    records: volume?.recordCount,
  };
}

try {
  console.log(`data: ${blobCount} blobs of 1 MiB (${gib} GiB) in ${root}, ${runs} runs`);
  const results = [];
  for (let run = 1; run <= runs; run++) {
    const ddSeconds = timeDd();
    await rm(join(root, 'dd.bin'));
    const writer = await timeWriter();
    results.push({ ddSeconds, ...writer });
    console.log(
      `run ${run}: dd ${ddSeconds.toFixed(2)} s (${mibps(ddSeconds)} MiB/s), writer ${writer.totalSeconds.toFixed(2)} s (${mibps(writer.totalSeconds)} MiB/s), ${((ddSeconds / writer.totalSeconds) * 100).toFixed(1)} %`,
    );
  }
  const dd = median(results.map((r) => r.ddSeconds));
  const total = median(results.map((r) => r.totalSeconds));
  const seal = median(results.map((r) => r.sealSeconds));
  const cpu = median(results.map((r) => r.cpuSeconds));
  const last = results.at(-1)!;
  console.log(`median dd conv=fsync:      ${dd.toFixed(2)} s, ${mibps(dd)} MiB/s`);
  console.log(`median writer (put+flush+seal): ${total.toFixed(2)} s, ${mibps(total)} MiB/s`);
  console.log(
    `median seal:               ${seal.toFixed(3)} s (${((seal / total) * 100).toFixed(2)} % of the writer's time)`,
  );
  console.log(`writer / dd (medians):     ${((dd / total) * 100).toFixed(1)} % (target ≥ 80 %)`);
  console.log(
    `writer CPU, all threads:   ${cpu.toFixed(2)} s (${((cpu * 1000) / (bytes / MiB)).toFixed(2)} ms per MiB)`,
  );
  console.log(
    `volume: ${last.volumeSize} bytes, ${last.records} records; index ${last.indexBytesPerBlob.toFixed(1)} bytes per blob`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
