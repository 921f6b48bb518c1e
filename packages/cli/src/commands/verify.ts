import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.ts';
import { printResult } from '../io.ts';
import { expectPositionals, requiredOption } from '../options.ts';
import { formatBytes, progressBar } from '../progress.ts';
import { type StagingVerificationReport, verifyStaging } from '../seed/index.ts';
import { passphraseFileOption, passphraseOf, stagingOption } from './staging-options.ts';

async function run(context: CommandContext): Promise<number> {
  expectPositionals(context, [], 'verify');
  const staging = resolve(context.io.cwd, requiredOption(context.values, 'staging', 'verify'));
  const bar = progressBar(context.io, 'verify', !context.json);
  let report: StagingVerificationReport;
  try {
    report = await verifyStaging({
      staging,
      passphrase: await passphraseOf(context),
      onProgress: (progress) => bar.update(progress),
      abortSignal: context.signal,
    });
  } finally {
    bar.finish();
  }
  printResult(context.io, context.json, report, renderVerification);
  return report.ok ? 0 : 1;
}

export function renderVerification(r: StagingVerificationReport): string {
  const lines: string[] = [];
  for (const v of r.volumes) {
    const state = v.ok
      ? 'ok'
      : `DAMAGED: ${v.damagedBlocks.length} blocks, ${v.damagedBlobs.length} records`;
    lines.push(
      `volume ${v.volumeNumber}: ${v.blockCount} blocks, ${v.recordCount} records: ${state}`,
    );
    for (const block of v.damagedBlocks)
      lines.push(`  block ${block.block} at offset ${block.offset}: checksum mismatch`);
    for (const blob of v.damagedBlobs)
      lines.push(`  record ${blob.id.slice(0, 16)} at offset ${blob.offset}: ${blob.reason}`);
  }
  for (const sidecar of r.damagedTransferHashes)
    lines.push(
      `volume ${sidecar.volume}: transfer hashes DAMAGED: ${sidecar.message} (${sidecar.code})`,
    );
  if (r.unsealed !== undefined) {
    const tail = r.unsealed.tailBytes > 0 ? `, ${r.unsealed.tailBytes} bytes of torn tail` : '';
    lines.push(
      `volume ${r.unsealed.volume}: open (an interrupted run), ${r.unsealed.records} records${tail}; the next stage resumes it`,
    );
  }
  for (const s of r.snapshots) {
    lines.push(
      `snapshot ${s.id.slice(0, 8)} ${s.time}: ${s.filesIntact} files intact${s.damaged > 0 ? `, ${s.damaged} DAMAGED` : ''}`,
    );
  }
  for (const f of r.damagedFiles) {
    lines.push(
      `  damaged ${f.type === 'dir' ? 'directory' : 'file'} ${f.snapshotId.slice(0, 8)}:/${f.path}: ${f.message} (${f.code})`,
    );
  }
  lines.push(
    `${r.blobsChecked} blobs (${formatBytes(r.bytesChecked)}) authenticated in ${r.seconds.toFixed(1)} s: ${r.ok ? 'no problems found' : 'DAMAGE FOUND'}`,
  );
  return lines.join('\n');
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Check every block and blob of a staging location',
  options: { staging: stagingOption, 'passphrase-file': passphraseFileOption },
  details: [
    'Reads every sealed volume once, checking each 2 MiB block checksum and record and',
    "authenticating each blob on the way (on worker threads), then walks every snapshot's",
    'catalog to name what a damaged or missing blob breaks. Exit code 1 when anything is',
    'damaged; the report names the files (in every snapshot) that a damaged blob breaks.',
  ].join('\n'),
  run,
};
