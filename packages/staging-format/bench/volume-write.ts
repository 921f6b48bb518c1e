// Throughput of the volume writer against the disk's sequential write speed, in one run:
//   node packages/staging-format/bench/volume-write.ts [GiB, default 4] [directory, default tmpdir]
// 1. dd if=/dev/zero of=<dir>/dd.bin bs=1M count=<GiB*1024> conv=fsync
// 2. <GiB> of 1 MiB random blobs through StagingWriter.put, flush, then sealVolume (timed apart).
// Target: writer ≥ 80 % of dd's speed; sealing < 5 % of the writer's time.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStagingDirectory } from '../src/node.ts';

const MiB = 1024 * 1024;
const gib = Number(process.argv[2] ?? 4);
const blobCount = Math.round(gib * 1024);
const root = await mkdtemp(join(process.argv[3] ?? tmpdir(), 'volume-bench-'));

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

try {
  let start = process.hrtime.bigint();
  execFileSync(
    'dd',
    ['if=/dev/zero', `of=${join(root, 'dd.bin')}`, 'bs=1M', `count=${blobCount}`, 'conv=fsync'],
    {
      stdio: 'ignore',
    },
  );
  const ddSeconds = seconds(start);
  await rm(join(root, 'dd.bin'));

  // Content does not matter to the writer: a few random buffers, a fresh id per blob.
  const buffers = Array.from({ length: 4 }, () => {
    const bytes = new Uint8Array(MiB);
    for (let at = 0; at < MiB; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
    return bytes;
  });
  const writer = await createStagingDirectory(join(root, 'location'), {
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
  start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let n = 0; n < blobCount; n++) {
    const id = new Uint8Array(32);
    crypto.getRandomValues(id.subarray(0, 16));
    new DataView(id.buffer).setUint32(28, n);
    await writer.put({ id, type: 'data', rawLength: MiB, bytes: buffers[n % buffers.length]! });
  }
  await writer.flush();
  const writeSeconds = seconds(start);
  const sealStart = process.hrtime.bigint();
  const volume = await writer.sealVolume();
  const sealSeconds = seconds(sealStart);
  const totalSeconds = seconds(start);
  // User + system time of every thread of this process (main, hashing workers, libuv pool).
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const bytesPerEntry = writer.indexBytesPerEntry;
  await writer.close();

  const bytes = blobCount * MiB;
  const mbps = (s: number) => (bytes / MiB / s).toFixed(0);
  console.log(`data: ${blobCount} blobs of 1 MiB (${gib} GiB) in ${root}`);
  console.log(`dd conv=fsync:           ${ddSeconds.toFixed(2)} s, ${mbps(ddSeconds)} MiB/s`);
  console.log(`writer (put+flush+seal): ${totalSeconds.toFixed(2)} s, ${mbps(totalSeconds)} MiB/s`);
  console.log(`  put+flush:             ${writeSeconds.toFixed(2)} s`);
  console.log(
    `  seal:                  ${sealSeconds.toFixed(3)} s (${((sealSeconds / totalSeconds) * 100).toFixed(2)} % of the writer's time)`,
  );
  console.log(
    `writer / dd:             ${((ddSeconds / totalSeconds) * 100).toFixed(1)} % (target ≥ 80 %)`,
  );
  console.log(
    `writer CPU, all threads: ${cpuSeconds.toFixed(2)} s (${((cpuSeconds * 1000) / (bytes / MiB)).toFixed(2)} ms per MiB)`,
  );
  console.log(
    `volume: ${volume?.size} bytes, ${volume?.recordCount} records; index ${bytesPerEntry.toFixed(1)} bytes per blob`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
