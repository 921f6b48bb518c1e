import type { Command } from '../command.ts';

const planned = (name: string, summary: string): Command => ({ name, summary, planned: true });

/** The command tree of `offline-seed`, in the order of the offline-seeding flow. */
export const commands: readonly Command[] = [
  planned('stage', 'Back up a directory into a staging location (full, then incremental)'),
  planned('snapshots', 'List the snapshots of a staging location'),
  planned('restore', 'Restore a snapshot, or part of it, from a staging location'),
  planned('verify', 'Check every block and blob of a staging location'),
  planned('prep', 'Copy staging volumes onto drives and write their manifests'),
  planned('verify-drive', 'Check a prepared drive against its manifest'),
  planned('job', 'Create and track Azure Import/Export jobs'),
  planned('emulator', 'Run the local emulator of the Azure job APIs and datacenter'),
  planned('vhd', 'Inspect, check, create, convert and merge VHD files'),
  planned('chunk', 'Show the content-defined chunks of a file'),
  planned('policy', 'Validate, simulate and compare backup retention policies'),
  planned('demo', 'Run the whole offline-seeding flow on sample data, locally'),
];
