import type { ByteSource, ReadOptions } from '../byte-source/byte-source.ts';
import { isStagingFormatError } from '../errors.ts';
import { formatUuid, type VhdDisk } from './disk.ts';
import { FOOTER_SIZE, type FooterFields, SECTOR_SIZE } from './footer.ts';
import { readLayout, type VhdLayout } from './layout.ts';
import { Diagnostics, problemFromError, type VhdProblem } from './problems.ts';
import { equalBytes } from './zero.ts';

const MiB = 1024 * 1024;
/** Largest page blob. */
export const MAX_PAGE_BLOB_SIZE = 8 * 1024 * 1024 * MiB;
/** Smallest managed disk that direct upload accepts (virtual size, footer excluded). */
export const MIN_MANAGED_DISK_SIZE = 20 * MiB;
/** Largest managed disk that direct upload accepts (virtual size, footer excluded). */
export const MAX_MANAGED_DISK_SIZE = 32_767 * 1024 * MiB;

/** Options of {@link checkVhd}. */
export interface CheckVhdOptions extends ReadOptions {
  /** Name (a path) used in problems' errors. */
  name?: string;
  /** The parent of a differencing disk: its identity and size are checked too. */
  parent?: VhdDisk;
}

/**
 * Lists every problem of the VHD in `source`: footers, header, BAT (range, overlap), locators, and
 * the parent's identity when given. An empty list means the file is sound. Never throws for bad
 * input: a file that cannot be analysed further yields its problem as the last entry.
 */
export async function checkVhd(
  source: ByteSource,
  options: CheckVhdOptions = {},
): Promise<VhdProblem[]> {
  const diagnostics = new Diagnostics(options.name);
  const layout = await analyse(source, diagnostics, options);
  if (layout?.parent !== undefined && options.parent !== undefined) {
    const { parent } = options;
    if (!equalBytes(parent.uniqueId, layout.parent.uniqueId))
      diagnostics.error(
        'VHD_PARENT_MISMATCH',
        `the parent has unique id ${formatUuid(parent.uniqueId)}, the differencing disk expects ${formatUuid(layout.parent.uniqueId)}`,
        (layout.headerOffset ?? 0) + 40,
      );
  }
  return diagnostics.problems;
}

async function analyse(
  source: ByteSource,
  diagnostics: Diagnostics,
  options: ReadOptions,
): Promise<VhdLayout | undefined> {
  try {
    return await readLayout(source, diagnostics, options);
  } catch (error) {
    if (!isStagingFormatError(error) || !error.code.startsWith('VHD_')) throw error;
    diagnostics.problems.push(problemFromError(error));
    return undefined;
  }
}

/** Options of {@link azureCompatibility}. */
export interface AzureCompatibilityOptions extends ReadOptions {
  /**
   * `page-blob` (default): the rules of a page blob that Azure Import/Export or an upload fills.
   * `managed-disk`: also the size range of a managed disk created by direct upload.
   */
  target?: 'page-blob' | 'managed-disk';
  name?: string;
}

/** Creator strings whose files qemu sizes by the footer's current size rather than by CHS. */
const CURRENT_SIZE_CREATORS = new Set(['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0']);

/**
 * Lists every reason Azure would refuse (or misread) the VHD in `source` as a page blob or managed
 * disk: structural problems (as {@link checkVhd}), then the Azure rules, each as a
 * `VHD_NOT_AZURE_COMPATIBLE` problem: fixed type, a virtual size that is a whole number of MiB, a
 * file exactly that size plus a 512-byte footer, the size limits, and a size that every reader
 * (qemu, Hyper-V) agrees on. Empty when the file can be uploaded as is.
 */
export async function azureCompatibility(
  source: ByteSource,
  options: AzureCompatibilityOptions = {},
): Promise<VhdProblem[]> {
  const diagnostics = new Diagnostics(options.name);
  const layout = await analyse(source, diagnostics, options);
  if (layout === undefined) return diagnostics.problems;
  const rule = (message: string, offset?: number) =>
    diagnostics.error('VHD_NOT_AZURE_COMPATIBLE', message, offset);
  const { footer, footerOffset, virtualSize } = layout;
  if (layout.type !== 'fixed')
    rule(
      `Azure takes fixed VHDs only; this one is ${layout.type} (convert it to fixed)`,
      footerOffset + 60,
    );
  if (virtualSize % MiB !== 0)
    rule(`the virtual size ${virtualSize} is not a whole number of MiB`, footerOffset + 48);
  if (layout.type === 'fixed' && source.size !== virtualSize + FOOTER_SIZE)
    rule(
      `the file is ${source.size} bytes; Azure needs the virtual size plus a 512-byte footer (${virtualSize + FOOTER_SIZE})`,
      footerOffset,
    );
  if (virtualSize > MAX_PAGE_BLOB_SIZE)
    rule(`the virtual size ${virtualSize} is above the 8 TiB page-blob limit`, footerOffset + 48);
  if (
    options.target === 'managed-disk' &&
    (virtualSize < MIN_MANAGED_DISK_SIZE || virtualSize > MAX_MANAGED_DISK_SIZE)
  )
    rule(
      `a managed disk must be between 20 MiB and 32,767 GiB; this one is ${virtualSize} bytes`,
      footerOffset + 48,
    );
  if (
    layout.header !== undefined &&
    layout.header.maxTableEntries !== Math.ceil(virtualSize / layout.blockSize)
  )
    rule(
      `the BAT has ${layout.header.maxTableEntries} entries, ${Math.ceil(virtualSize / layout.blockSize)} are needed: converters derive a wrong size from it`,
      (layout.headerOffset ?? 0) + 28,
    );
  const chsSize = chsBytes(footer);
  if (
    !CURRENT_SIZE_CREATORS.has(footer.creatorApplication) &&
    !isMaxGeometry(footer) &&
    chsSize !== virtualSize
  )
    rule(
      `creator "${footer.creatorApplication}" makes qemu size the disk by its geometry (${chsSize} bytes), not by its current size (${virtualSize})`,
      footerOffset + 28,
    );
  return diagnostics.problems;
}

function chsBytes(footer: FooterFields): number {
  return footer.cylinders * footer.heads * footer.sectorsPerTrack * SECTOR_SIZE;
}

function isMaxGeometry(footer: FooterFields): boolean {
  return footer.cylinders === 65535 && footer.heads === 16 && footer.sectorsPerTrack === 255;
}
