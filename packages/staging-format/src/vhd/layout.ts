import type { ByteSource, ReadOptions } from '../byte-source/byte-source.ts';
import {
  DiskType,
  type DiskTypeName,
  FOOTER_CHECKSUM_OFFSET,
  FOOTER_COOKIE,
  FOOTER_SIZE,
  type FooterFields,
  footerStruct,
  SECTOR_SIZE,
} from './footer.ts';
import {
  bitmapSize,
  decodeLocatorData,
  decodeLocatorEntries,
  decodeParentName,
  HEADER_CHECKSUM_OFFSET,
  HEADER_COOKIE,
  HEADER_SIZE,
  type HeaderFields,
  headerStruct,
  LocatorPlatform,
  UNALLOCATED,
} from './header.ts';
import type { Diagnostics } from './problems.ts';
import { vhdChecksum } from './struct.ts';
import { equalBytes } from './zero.ts';

/** Largest block size accepted (the spec allows any power of two; tools use 512 KiB to 2 MiB). */
export const MAX_BLOCK_SIZE = 256 * 1024 * 1024;
/** Largest BAT accepted: 16 Mi entries (64 MiB), far above a 2040 GiB disk in 512 KiB blocks. */
export const MAX_TABLE_ENTRIES = 16 * 1024 * 1024;
/** Largest dynamic or differencing disk: 0xFF000000 sectors (2040 GiB), as qemu and Hyper-V cap it. */
export const MAX_DYNAMIC_SIZE = 0xff00_0000 * SECTOR_SIZE;
/** Locator data longer than this is not a path. */
const MAX_LOCATOR_LENGTH = 64 * 1024;

/** A parent locator, decoded. */
export interface ParentLocator {
  /** Platform code as text: `W2ru`, `W2ku`, `MacX`, … */
  platform: string;
  /** The path or URL it holds. */
  path: string;
}

/** What a differencing disk records about its parent. */
export interface ParentReference {
  /** The parent footer's unique id. */
  uniqueId: Uint8Array;
  /** Parent modification time in seconds since 2000-01-01 UTC. */
  timestamp: number;
  /** The parent's name from the header (often just the file name, sometimes a full path). */
  name: string;
  locators: ParentLocator[];
}

/** Everything the metadata of a VHD file says, validated. */
export interface VhdLayout {
  type: DiskTypeName;
  footer: FooterFields;
  /** Offset of the footer used (trailing when valid, else the copy at 0). */
  footerOffset: number;
  virtualSize: number;
  /** Dynamic and differencing disks only. */
  header?: HeaderFields;
  headerOffset?: number;
  /** Block allocation table: absolute sector of each block's bitmap, or {@link UNALLOCATED}. */
  bat?: Uint32Array;
  blockSize: number;
  /** Bytes of the sector bitmap in front of each block's data. */
  bitmapSize: number;
  parent?: ParentReference;
  /** End of the region blocks may occupy (the trailing footer's offset). */
  dataEnd: number;
}

type FooterParse = { fields: FooterFields } | { code: 'VHD_BAD_COOKIE' | 'VHD_BAD_CHECKSUM' };

function parseFooter(bytes: Uint8Array): FooterParse {
  const fields = footerStruct.decode(bytes);
  if (fields.cookie !== FOOTER_COOKIE) return { code: 'VHD_BAD_COOKIE' };
  if (vhdChecksum(bytes.subarray(0, FOOTER_SIZE), FOOTER_CHECKSUM_OFFSET) !== fields.checksum)
    return { code: 'VHD_BAD_CHECKSUM' };
  return { fields };
}

function toSafe(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
}

function platformName(code: number): string {
  const known = Object.entries(LocatorPlatform).find(([, value]) => value === code);
  if (known !== undefined) return known[0];
  return `0x${code.toString(16).padStart(8, '0')}`;
}

/** Finds and validates the footer: the trailing one, a 511-byte legacy one, or the copy at 0. */
async function readFooter(
  source: ByteSource,
  diagnostics: Diagnostics,
  options: ReadOptions,
): Promise<{ footer: FooterFields; footerOffset: number; raw: Uint8Array }> {
  const { size } = source;
  if (size < FOOTER_SIZE - 1)
    diagnostics.fail('VHD_TRUNCATED', `${size} bytes is too short to hold a VHD footer`, 0);
  let trailing: FooterParse = { code: 'VHD_BAD_COOKIE' };
  if (size >= FOOTER_SIZE) {
    const raw = await source.read(size - FOOTER_SIZE, FOOTER_SIZE, options);
    trailing = parseFooter(raw);
    if ('fields' in trailing)
      return { footer: trailing.fields, footerOffset: size - FOOTER_SIZE, raw: raw.slice() };
  }
  // Pre-2004 tools wrote 511 bytes: the missing byte is reserved (zero).
  const short = new Uint8Array(FOOTER_SIZE);
  short.set(await source.read(size - (FOOTER_SIZE - 1), FOOTER_SIZE - 1, options));
  const legacy = parseFooter(short);
  if ('fields' in legacy) {
    diagnostics.warn(
      'VHD_SHORT_FOOTER',
      'the footer is the 511-byte form of pre-2004 tools',
      size - (FOOTER_SIZE - 1),
    );
    return { footer: legacy.fields, footerOffset: size - (FOOTER_SIZE - 1), raw: short };
  }
  if (size >= 2 * FOOTER_SIZE) {
    const copy = await source.read(0, FOOTER_SIZE, options);
    const parsed = parseFooter(copy);
    if ('fields' in parsed && parsed.fields.diskType !== DiskType.fixed) {
      diagnostics.warn(
        'VHD_FOOTER_MISMATCH',
        `the trailing footer is damaged (${trailing.code === 'VHD_BAD_COOKIE' ? 'no cookie' : 'bad checksum'}); using the copy at offset 0`,
        size - FOOTER_SIZE,
      );
      return { footer: parsed.fields, footerOffset: 0, raw: copy.slice() };
    }
  }
  const offset = size - FOOTER_SIZE;
  if (trailing.code === 'VHD_BAD_COOKIE')
    diagnostics.fail('VHD_BAD_COOKIE', 'no VHD footer ("conectix") at the end of the file', offset);
  diagnostics.fail('VHD_BAD_CHECKSUM', 'the footer checksum does not match its bytes', offset + 64);
}

function checkFooterFields(
  footer: FooterFields,
  at: number,
  diagnostics: Diagnostics,
): DiskTypeName {
  if (footer.fileFormatVersion >>> 16 !== 1)
    diagnostics.fail(
      'VHD_UNSUPPORTED_VERSION',
      `footer format version 0x${footer.fileFormatVersion.toString(16)} is not 1.x`,
      at + 12,
    );
  const type = (Object.keys(DiskType) as DiskTypeName[]).find(
    (name) => DiskType[name] === footer.diskType,
  );
  if (type === undefined)
    diagnostics.fail(
      'VHD_UNSUPPORTED_TYPE',
      `disk type ${footer.diskType} is not fixed (2), dynamic (3) or differencing (4)`,
      at + 60,
    );
  const size = toSafe(footer.currentSize);
  if (!Number.isSafeInteger(size) || size % SECTOR_SIZE !== 0)
    diagnostics.fail(
      'VHD_BAD_SIZE',
      `current size ${footer.currentSize} is not a multiple of 512 bytes`,
      at + 48,
    );
  return type;
}

/**
 * Reads and validates the metadata of a VHD: footers, header, BAT, parent locators. Problems that
 * leave the rest intelligible are added to `diagnostics`; the others end the analysis by throwing.
 */
export async function readLayout(
  source: ByteSource,
  diagnostics: Diagnostics,
  options: ReadOptions = {},
): Promise<VhdLayout> {
  const { footer, footerOffset, raw } = await readFooter(source, diagnostics, options);
  const type = checkFooterFields(footer, footerOffset, diagnostics);
  const virtualSize = Number(footer.currentSize);
  const dataEnd = footerOffset === 0 ? source.size - FOOTER_SIZE : footerOffset;
  if (type === 'fixed') {
    if (virtualSize > footerOffset)
      diagnostics.fail(
        'VHD_TRUNCATED',
        `the footer declares ${virtualSize} bytes of disk, but only ${footerOffset} precede it`,
        footerOffset,
      );
    if (virtualSize < footerOffset)
      diagnostics.warn(
        'VHD_BAD_SIZE',
        `${footerOffset - virtualSize} bytes between the declared disk size and the footer are ignored`,
        virtualSize,
      );
    return {
      type,
      footer,
      footerOffset,
      virtualSize,
      blockSize: 2 * 1024 * 1024,
      bitmapSize: 0,
      dataEnd,
    };
  }

  if (virtualSize > MAX_DYNAMIC_SIZE)
    diagnostics.warn(
      'VHD_BAD_SIZE',
      `a ${type} disk above 2040 GiB is beyond what Hyper-V and qemu accept`,
      footerOffset + 48,
    );
  if (footerOffset !== 0) {
    const copy = await source.read(0, FOOTER_SIZE, options);
    if (!equalBytes(copy, raw.subarray(0, FOOTER_SIZE)))
      diagnostics.warn(
        'VHD_FOOTER_MISMATCH',
        'the footer copy at offset 0 differs from the trailing footer',
        0,
      );
  }
  const headerOffset = toSafe(footer.dataOffset);
  if (
    headerOffset < FOOTER_SIZE ||
    headerOffset % SECTOR_SIZE !== 0 ||
    headerOffset + HEADER_SIZE > dataEnd
  )
    diagnostics.fail(
      headerOffset + HEADER_SIZE > source.size ? 'VHD_TRUNCATED' : 'VHD_BAD_HEADER',
      `the header offset ${footer.dataOffset} is not a sector inside the file`,
      footerOffset + 16,
    );
  const headerBytes = await source.read(headerOffset, HEADER_SIZE, options);
  const header = headerStruct.decode(headerBytes);
  if (header.cookie !== HEADER_COOKIE)
    diagnostics.fail(
      'VHD_BAD_COOKIE',
      'no dynamic-disk header ("cxsparse") where the footer points',
      headerOffset,
    );
  if (vhdChecksum(headerBytes, HEADER_CHECKSUM_OFFSET) !== header.checksum)
    diagnostics.fail(
      'VHD_BAD_CHECKSUM',
      'the dynamic-disk header checksum does not match its bytes',
      headerOffset + 36,
    );
  if (header.headerVersion >>> 16 !== 1)
    diagnostics.fail(
      'VHD_UNSUPPORTED_VERSION',
      `header version 0x${header.headerVersion.toString(16)} is not 1.x`,
      headerOffset + 24,
    );
  const { blockSize, maxTableEntries } = header;
  if (blockSize < SECTOR_SIZE || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0)
    diagnostics.fail(
      'VHD_BAD_HEADER',
      `block size ${blockSize} is not a power of two from 512 bytes to 256 MiB`,
      headerOffset + 32,
    );
  const needed = Math.ceil(virtualSize / blockSize);
  if (maxTableEntries < needed)
    diagnostics.fail(
      'VHD_BAD_HEADER',
      `${maxTableEntries} BAT entries cannot cover ${virtualSize} bytes in ${blockSize}-byte blocks (${needed} needed)`,
      headerOffset + 28,
    );
  if (maxTableEntries > MAX_TABLE_ENTRIES)
    diagnostics.fail(
      'VHD_BAD_HEADER',
      `${maxTableEntries} BAT entries is more than the ${MAX_TABLE_ENTRIES} supported`,
      headerOffset + 28,
    );
  const tableOffset = toSafe(header.tableOffset);
  const tableBytes = maxTableEntries * 4;
  if (tableOffset % SECTOR_SIZE !== 0 || tableOffset + tableBytes > dataEnd)
    diagnostics.fail(
      tableOffset + tableBytes > source.size ? 'VHD_TRUNCATED' : 'VHD_BAD_HEADER',
      `the BAT (${tableBytes} bytes at ${header.tableOffset}) does not lie inside the file`,
      headerOffset + 16,
    );
  const batBytes = await source.read(tableOffset, tableBytes, options);
  const bat = new Uint32Array(maxTableEntries);
  const batView = new DataView(batBytes.buffer, batBytes.byteOffset, tableBytes);
  for (let i = 0; i < maxTableEntries; i++) bat[i] = batView.getUint32(i * 4);

  const metadata: Array<{ start: number; end: number; what: string }> = [
    { start: 0, end: FOOTER_SIZE, what: 'the footer copy' },
    { start: headerOffset, end: headerOffset + HEADER_SIZE, what: 'the header' },
    { start: tableOffset, end: tableOffset + tableBytes, what: 'the BAT' },
  ];
  let parent: ParentReference | undefined;
  if (type === 'differencing') {
    parent = await readParentReference(
      source,
      header,
      headerOffset,
      diagnostics,
      metadata,
      options,
    );
  }
  const layout: VhdLayout = {
    type,
    footer,
    footerOffset,
    virtualSize,
    header,
    headerOffset,
    bat,
    blockSize,
    bitmapSize: bitmapSize(blockSize),
    dataEnd,
    ...(parent === undefined ? {} : { parent }),
  };
  checkBlocks(layout, metadata, diagnostics);
  return layout;
}

async function readParentReference(
  source: ByteSource,
  header: HeaderFields,
  headerOffset: number,
  diagnostics: Diagnostics,
  metadata: Array<{ start: number; end: number; what: string }>,
  options: ReadOptions,
): Promise<ParentReference> {
  const locators: ParentLocator[] = [];
  const entries = decodeLocatorEntries(header);
  for (const [i, entry] of entries.entries()) {
    if (entry.platformCode === LocatorPlatform.none) continue;
    const at = headerOffset + 576 + i * 24;
    const platform = platformName(entry.platformCode);
    const end = entry.dataOffset + entry.dataLength;
    if (entry.dataLength === 0 || entry.dataLength > MAX_LOCATOR_LENGTH || end > source.size) {
      diagnostics.warn(
        'VHD_BAD_LOCATOR',
        `parent locator ${i} (${platform}): ${entry.dataLength} bytes at ${entry.dataOffset} is not inside the file`,
        at,
      );
      continue;
    }
    if (entry.dataLength > entry.dataSpace)
      diagnostics.warn(
        'VHD_BAD_LOCATOR',
        `parent locator ${i} (${platform}) holds more data than the space it reserves`,
        at,
      );
    const data = await source.read(entry.dataOffset, entry.dataLength, options);
    // Only the data itself: the reserved space is ambiguous (sectors or bytes) across writers.
    metadata.push({
      start: entry.dataOffset,
      end: entry.dataOffset + entry.dataLength,
      what: `parent locator ${i}`,
    });
    let path: string;
    try {
      path = decodeLocatorData(entry.platformCode, data);
    } catch {
      diagnostics.warn(
        'VHD_BAD_LOCATOR',
        `parent locator ${i} (${platform}) is not valid text`,
        entry.dataOffset,
      );
      continue;
    }
    locators.push({ platform, path });
  }
  return {
    uniqueId: header.parentUniqueId,
    timestamp: header.parentTimestamp,
    name: decodeParentName(header),
    locators,
  };
}

/** Every allocated block must lie inside the file, clear of metadata and of every other block. */
function checkBlocks(
  layout: VhdLayout,
  metadata: ReadonlyArray<{ start: number; end: number; what: string }>,
  diagnostics: Diagnostics,
): void {
  const bat = layout.bat!;
  const blockBytes = layout.bitmapSize + layout.blockSize;
  const starts: number[] = [];
  const batOffset = Number(layout.header!.tableOffset);
  for (let i = 0; i < bat.length; i++) {
    const sector = bat[i]!;
    if (sector === UNALLOCATED) continue;
    const start = sector * SECTOR_SIZE;
    // Entries past the disk's blocks are never read; a stale value there is harmless.
    if (i * layout.blockSize >= layout.virtualSize) continue;
    if (start + blockBytes > layout.dataEnd) {
      diagnostics.error(
        'VHD_BAT_OUT_OF_RANGE',
        `BAT entry ${i} points at ${start}, but the block would end past the data area (${layout.dataEnd})`,
        batOffset + i * 4,
      );
      continue;
    }
    const clash = metadata.find((m) => start < m.end && m.start < start + blockBytes);
    if (clash !== undefined) {
      diagnostics.error(
        'VHD_BAT_OUT_OF_RANGE',
        `BAT entry ${i} points at ${start}, onto ${clash.what}`,
        batOffset + i * 4,
      );
      continue;
    }
    starts.push(start);
  }
  const sorted = Float64Array.from(starts).sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]! < sorted[i - 1]! + blockBytes)
      diagnostics.error(
        'VHD_BAT_OVERLAP',
        `the blocks at ${sorted[i - 1]} and ${sorted[i]} overlap`,
        sorted[i],
      );
  }
}
