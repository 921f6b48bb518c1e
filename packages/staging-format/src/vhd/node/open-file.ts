import { access } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadOptions } from '../../byte-source/byte-source.ts';
import { FileByteSource, type FileByteSourceOptions } from '../../byte-source/file.ts';
import { isStagingFormatError, StagingFormatError } from '../../errors.ts';
import { formatUuid, MAX_CHAIN_DEPTH, openVhd, type VhdDisk } from '../disk.ts';
import type { ParentReference } from '../layout.ts';
import { equalBytes } from '../zero.ts';
import { mergeJournalPath } from './journal-path.ts';

/** Options of {@link openVhdFile}. */
export interface OpenVhdFileOptions extends ReadOptions, FileByteSourceOptions {
  /** The parent of a differencing disk, instead of looking for it. Its unique id is still checked. */
  parentPath?: string;
  /** Open a differencing disk whose parent is missing; reading parent data then fails. */
  allowMissingParent?: boolean;
  /**
   * Open disks whose interrupted merge has not been recovered (`VHD_MERGE_PENDING` otherwise): their
   * contents may be half-way between before and after the merge.
   */
  allowPendingMerge?: boolean;
}

/**
 * Opens the VHD at `path` and, for a differencing disk, its chain of parents. Each parent is looked
 * for through the child's locators (relative `W2ru`, absolute `W2ku`, `MacX` URL) and its parent
 * name, relative to the child's folder, then by file name next to the child (chains moved together);
 * the first file with the expected unique id wins. {@link VhdDisk.close} closes the whole chain.
 * Every file of the chain is opened with `syncReadLimit` (see {@link FileByteSourceOptions}).
 *
 * @throws {StagingFormatError} `VHD_PARENT_NOT_FOUND` when no candidate exists,
 *   `VHD_PARENT_MISMATCH` when candidates exist but none has the expected unique id,
 *   `VHD_CHAIN_TOO_DEEP`, or any error of {@link openVhd} (with the path of the file concerned).
 */
export async function openVhdFile(
  path: string,
  options: OpenVhdFileOptions = {},
): Promise<VhdDisk> {
  return openAt(
    resolve(path),
    options,
    0,
    options.parentPath === undefined ? undefined : resolve(options.parentPath),
  );
}

async function openAt(
  path: string,
  options: OpenVhdFileOptions,
  depth: number,
  parentPath: string | undefined,
): Promise<VhdDisk> {
  if (depth > MAX_CHAIN_DEPTH)
    throw new StagingFormatError(
      'VHD_CHAIN_TOO_DEEP',
      `the differencing chain is deeper than ${MAX_CHAIN_DEPTH} disks (or loops)`,
      { path },
    );
  if (options.allowPendingMerge !== true && (await hasFile(mergeJournalPath(path))))
    throw new StagingFormatError(
      'VHD_MERGE_PENDING',
      `a merge into ${path} was interrupted: run the merge again (or recoverMerge) before using it`,
      { path },
    );
  const source = await FileByteSource.open(path, options);
  try {
    return await openVhd(source, {
      ...options,
      name: path,
      resolveParent: (reference) => findParent(path, reference, options, depth, parentPath),
    });
  } catch (error) {
    await source.close();
    throw error;
  }
}

async function hasFile(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Where a child's parent may be, best first, without duplicates. */
export function parentCandidates(childPath: string, reference: ParentReference): string[] {
  const folder = dirname(childPath);
  const paths: string[] = [];
  for (const { platform, path } of reference.locators) {
    if (platform === 'MacX') {
      try {
        paths.push(fileURLToPath(path));
      } catch {
        // Not a file URL: nothing to try.
      }
    } else if (
      platform === 'W2ru' ||
      platform === 'W2ku' ||
      platform === 'Wi2r' ||
      platform === 'Wi2k'
    ) {
      paths.push(fromWindowsPath(path, folder));
    }
  }
  if (reference.name !== '') paths.push(fromWindowsPath(reference.name, folder));
  // Moved together: the parent sits next to the child under its recorded file name.
  const byName = paths.map((p) => resolve(folder, basename(p)));
  return [...new Set([...paths, ...byName])];
}

/** A Windows path from a locator, as a path on this system (relative ones against `folder`). */
function fromWindowsPath(path: string, folder: string): string {
  const slashes = path.replaceAll('\\', '/');
  if (/^[A-Za-z]:\//.test(slashes))
    return process.platform === 'win32'
      ? slashes
      : resolve(folder, slashes.slice(slashes.lastIndexOf('/') + 1));
  return isAbsolute(slashes) ? slashes : resolve(folder, slashes);
}

async function findParent(
  childPath: string,
  reference: ParentReference,
  options: OpenVhdFileOptions,
  depth: number,
  parentPath: string | undefined,
): Promise<VhdDisk | undefined> {
  const candidates =
    parentPath === undefined ? parentCandidates(childPath, reference) : [parentPath];
  const nested = { ...options, parentPath: undefined } as OpenVhdFileOptions;
  const mismatches: string[] = [];
  for (const candidate of candidates) {
    if (candidate === childPath) continue;
    let parent: VhdDisk;
    try {
      parent = await openAt(candidate, nested, depth + 1, undefined);
    } catch (error) {
      // A missing candidate is the normal case; anything else wrong with a parent is reported.
      if (
        isStagingFormatError(error, 'SOURCE_IO') &&
        error.path === candidate &&
        parentPath === undefined
      )
        continue;
      throw error;
    }
    if (equalBytes(parent.uniqueId, reference.uniqueId)) return parent;
    mismatches.push(`${candidate} (${formatUuid(parent.uniqueId)})`);
    await parent.close();
  }
  if (mismatches.length > 0)
    throw new StagingFormatError(
      'VHD_PARENT_MISMATCH',
      `no parent with unique id ${formatUuid(reference.uniqueId)}: found ${mismatches.join(', ')}`,
      { path: childPath },
    );
  return undefined;
}
