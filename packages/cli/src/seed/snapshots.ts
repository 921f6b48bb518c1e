import type { StoredSnapshot } from '@offline-seed/staging-format';
import { directoryArgument, readDescriptorOf } from './location.ts';

/** Options of {@link listStagedSnapshots}. */
export interface ListStagedSnapshotsOptions {
  abortSignal?: AbortSignal;
}

/**
 * The committed snapshots of the staging location in `staging`, oldest first, as its descriptor
 * records them (id, time, root, parent, stats, volume). Reads only `staging.json`: no lock, no
 * passphrase, no volume is opened.
 *
 * @throws `StagingFormatError` `STAGING_NOT_A_LOCATION`, `STAGING_BAD_DESCRIPTOR`,
 *   `STAGING_UNSUPPORTED_VERSION`.
 */
export async function* listStagedSnapshots(
  staging: string,
  options: ListStagedSnapshotsOptions = {},
): AsyncIterableIterator<StoredSnapshot> {
  const descriptor = await readDescriptorOf(directoryArgument(staging, 'staging'));
  for (const snapshot of descriptor.snapshots) {
    options.abortSignal?.throwIfAborted();
    yield snapshot;
  }
}
