import { StagingFormatError } from '../../errors.ts';
import {
  DESCRIPTOR_FILE,
  parseDescriptor,
  type StagingDescriptor,
  serializeDescriptor,
} from '../format/descriptor.ts';
import type { LocationStore } from '../store/store.ts';

/**
 * Reads and validates `staging.json`.
 * @throws {StagingFormatError} `STAGING_NOT_A_LOCATION` when there is none, or a descriptor error.
 */
export async function readDescriptor(store: LocationStore): Promise<StagingDescriptor> {
  const path = store.pathOf(DESCRIPTOR_FILE);
  const bytes = await store.readFile(DESCRIPTOR_FILE);
  if (bytes === undefined) {
    throw new StagingFormatError(
      'STAGING_NOT_A_LOCATION',
      `${store.path} is not a staging location: ${path} is missing`,
      {
        path,
      },
    );
  }
  return parseDescriptor(bytes, path);
}

/** Replaces `staging.json` atomically (write temp, sync, rename, sync directory). */
export async function writeDescriptor(
  store: LocationStore,
  descriptor: StagingDescriptor,
): Promise<void> {
  await store.writeFileAtomic(DESCRIPTOR_FILE, serializeDescriptor(descriptor));
}
