import type { Command } from '../command.ts';
import { chunkCommand } from './chunk.ts';
import { demoCommand } from './demo.ts';
import { planned } from './planned.ts';
import { policyCommand } from './policy.ts';
import { restoreCommand } from './restore.ts';
import { snapshotsCommand } from './snapshots.ts';
import { stageCommand } from './stage.ts';
import { verifyCommand } from './verify.ts';
import { vhdCommand } from './vhd.ts';

/** The command tree of `offline-seed`, in the order of the offline-seeding flow. */
export const commands: readonly Command[] = [
  stageCommand,
  snapshotsCommand,
  restoreCommand,
  verifyCommand,
  planned('prep', 'Copy staging volumes onto drives and write their manifests'),
  planned('verify-drive', 'Check a prepared drive against its manifest'),
  planned('job', 'Create and track Azure Import/Export jobs'),
  planned('emulator', 'Run the local emulator of the Azure job APIs and datacenter'),
  vhdCommand,
  chunkCommand,
  policyCommand,
  demoCommand,
];
