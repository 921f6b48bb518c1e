import { SECTOR_SIZE } from './footer.ts';
import { ascii, bytes, encodeChecksummed, struct, u32, u64 } from './struct.ts';

/** Bytes of the dynamic-disk header. */
export const HEADER_SIZE = 1024;
/** Cookie that starts a dynamic-disk header. */
export const HEADER_COOKIE = 'cxsparse';
/** Header version we write (1.0). */
export const HEADER_VERSION = 0x0001_0000;
/** Block size of the disks we write: 2 MiB, as Hyper-V, qemu and Azure tools use. */
export const DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;
/** BAT value of a block that is not stored in the file. */
export const UNALLOCATED = 0xffff_ffff;
/** Parent locator entries in a header. */
export const PARENT_LOCATOR_COUNT = 8;
const LOCATOR_SIZE = 24;
const LOCATORS_OFFSET = 576;
const PARENT_NAME_OFFSET = 64;
const PARENT_NAME_SIZE = 512;

/** Platform codes of parent locators (VHD specification, "Parent Locator Entries"). */
export const LocatorPlatform = {
  none: 0,
  /** Relative Windows path, UTF-16LE. */
  W2ru: 0x5732_7275,
  /** Absolute Windows path, UTF-16LE. */
  W2ku: 0x5732_6b75,
  /** macOS `file://` URL, UTF-8. */
  MacX: 0x4d61_6358,
  /** Deprecated: relative Windows path, ANSI. */
  Wi2r: 0x5769_3272,
  /** Deprecated: absolute Windows path, ANSI. */
  Wi2k: 0x5769_326b,
} as const;

/** Dynamic-disk header layout, VHD specification v1.0 ("Dynamic Disk Header Format"). */
export const headerStruct = struct(HEADER_SIZE, {
  cookie: ascii(0, 8), //                 "cxsparse"
  dataOffset: u64(8), //                  unused, all ones
  tableOffset: u64(16), //                absolute byte offset of the BAT
  headerVersion: u32(24), //              0x00010000
  maxTableEntries: u32(28), //            BAT entries = ceil(size / blockSize)
  blockSize: u32(32), //                  data bytes per block, power of two
  checksum: u32(36),
  parentUniqueId: bytes(40, 16), //       the parent footer's unique id
  parentTimestamp: u32(56), //            parent modification time, VHD epoch
  reserved: u32(60),
  parentUnicodeName: bytes(PARENT_NAME_OFFSET, PARENT_NAME_SIZE), // UTF-16BE, NUL padded
  parentLocators: bytes(LOCATORS_OFFSET, LOCATOR_SIZE * PARENT_LOCATOR_COUNT),
  // 768..1023 reserved, zero
});

/** A decoded dynamic-disk header. */
export type HeaderFields = ReturnType<typeof headerStruct.decode>;
/** Offset of the checksum field in the header. */
export const HEADER_CHECKSUM_OFFSET = headerStruct.fields.checksum.offset;

/** One parent locator entry (24 bytes). `dataSpace` is in bytes here, whatever the file used. */
export interface ParentLocatorEntry {
  platformCode: number;
  /** Bytes reserved for the locator data. */
  dataSpace: number;
  /** Bytes of locator data. */
  dataLength: number;
  /** Absolute byte offset of the locator data. */
  dataOffset: number;
}

/**
 * Decodes the 8 locator entries of a header. The spec gives the data space in sectors, Windows
 * writes bytes: below 512 it can only be sectors, a multiple of 512 is taken as bytes (as blktap does).
 */
export function decodeLocatorEntries(header: HeaderFields): ParentLocatorEntry[] {
  const view = new DataView(
    header.parentLocators.buffer,
    header.parentLocators.byteOffset,
    header.parentLocators.length,
  );
  const entries: ParentLocatorEntry[] = [];
  for (let i = 0; i < PARENT_LOCATOR_COUNT; i++) {
    const at = i * LOCATOR_SIZE;
    const space = view.getUint32(at + 4);
    const offset = view.getBigUint64(at + 16);
    entries.push({
      platformCode: view.getUint32(at),
      dataSpace: space < SECTOR_SIZE ? space * SECTOR_SIZE : space,
      dataLength: view.getUint32(at + 8),
      dataOffset:
        offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offset),
    });
  }
  return entries;
}

/** Encodes locator entries into the header's 192-byte locator area (data space in sectors). */
export function encodeLocatorEntries(entries: readonly ParentLocatorEntry[]): Uint8Array {
  if (entries.length > PARENT_LOCATOR_COUNT)
    throw new RangeError(`at most ${PARENT_LOCATOR_COUNT} parent locators`);
  const out = new Uint8Array(LOCATOR_SIZE * PARENT_LOCATOR_COUNT);
  const view = new DataView(out.buffer);
  entries.forEach((entry, i) => {
    const at = i * LOCATOR_SIZE;
    view.setUint32(at, entry.platformCode);
    view.setUint32(at + 4, Math.ceil(entry.dataSpace / SECTOR_SIZE));
    view.setUint32(at + 8, entry.dataLength);
    view.setBigUint64(at + 16, BigInt(entry.dataOffset));
  });
  return out;
}

/** The parent name of a header (UTF-16BE, up to the first NUL). */
export function decodeParentName(header: HeaderFields): string {
  return trimNul(new TextDecoder('utf-16be').decode(header.parentUnicodeName));
}

/** Encodes `name` as the header's 512-byte UTF-16BE parent name (truncated to 255 characters). */
export function encodeParentName(name: string): Uint8Array {
  const out = new Uint8Array(PARENT_NAME_SIZE);
  const units = Math.min(name.length, PARENT_NAME_SIZE / 2 - 1);
  for (let i = 0; i < units; i++) {
    const unit = name.charCodeAt(i);
    out[i * 2] = unit >> 8;
    out[i * 2 + 1] = unit & 0xff;
  }
  return out;
}

/** Locator data as text: UTF-16LE for the Windows kinds (as Windows writes it), UTF-8 otherwise. */
export function decodeLocatorData(platformCode: number, data: Uint8Array): string {
  const utf16 = platformCode === LocatorPlatform.W2ru || platformCode === LocatorPlatform.W2ku;
  return trimNul(new TextDecoder(utf16 ? 'utf-16le' : 'utf-8').decode(data));
}

/** Encodes a Windows path as UTF-16LE locator data. */
export function encodeUtf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[i * 2] = unit & 0xff;
    out[i * 2 + 1] = unit >> 8;
  }
  return out;
}

function trimNul(text: string): string {
  const end = text.indexOf('\0');
  return end === -1 ? text : text.slice(0, end);
}

/** Encodes `fields` with a freshly computed checksum (the given `checksum` is ignored). */
export function encodeHeader(fields: HeaderFields): Uint8Array {
  return encodeChecksummed(headerStruct, fields);
}

/** Bytes of the sector bitmap in front of each block's data, rounded up to whole sectors. */
export function bitmapSize(blockSize: number): number {
  return Math.ceil(blockSize / SECTOR_SIZE / 8 / SECTOR_SIZE) * SECTOR_SIZE;
}

/** BAT bytes on disk: 4 per entry, padded to whole sectors. */
export function batSize(entries: number): number {
  return Math.max(1, Math.ceil((entries * 4) / SECTOR_SIZE)) * SECTOR_SIZE;
}
