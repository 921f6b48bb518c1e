import { ascii, bytes, encodeChecksummed, struct, u8, u16, u32, u64 } from './struct.ts';

export const SECTOR_SIZE = 512;
export const FOOTER_SIZE = 512;
export const FOOTER_COOKIE = 'conectix';
/** Seconds between the Unix epoch and the VHD epoch, 2000-01-01T00:00:00Z. */
export const VHD_EPOCH_OFFSET_SECONDS = 946_684_800;
/** `dataOffset` of a fixed disk: there is no header (all ones, 64 bits, as qemu and Azure tools write). */
export const NO_DATA_OFFSET = 0xffff_ffff_ffff_ffffn;

export const DiskType = { fixed: 2, dynamic: 3, differencing: 4 } as const;
export type DiskTypeName = keyof typeof DiskType;

/** Footer layout, VHD specification v1.0 ("Hard Disk Footer Format"). */
export const footerStruct = struct(FOOTER_SIZE, {
  cookie: ascii(0, 8), //               "conectix"
  features: u32(8), //                  bit 1 reserved, always set
  fileFormatVersion: u32(12), //        0x00010000
  dataOffset: u64(16), //               header offset; all ones for fixed disks
  timestamp: u32(24), //                seconds since 2000-01-01 UTC
  creatorApplication: ascii(28, 4), //  decides how qemu sizes the disk
  creatorVersion: u32(32), //           major << 16 | minor
  creatorHostOs: u32(36), //            "Wi2k" 0x5769326b
  originalSize: u64(40), //             bytes at creation
  currentSize: u64(48), //              bytes the guest sees
  cylinders: u16(56), //                CHS geometry, see diskGeometry()
  heads: u8(58),
  sectorsPerTrack: u8(59),
  diskType: u32(60), //                 2 fixed, 3 dynamic, 4 differencing
  checksum: u32(64), //                 one's complement of the byte sum
  uniqueId: bytes(68, 16), //           identity; a child names its parent by it
  savedState: u8(84),
  // 85..511 reserved, zero
});

export type FooterFields = ReturnType<typeof footerStruct.decode>;

export const FEATURES_RESERVED = 0x0000_0002;
export const FILE_FORMAT_VERSION = 0x0001_0000;
export const HOST_OS_WINDOWS = 0x5769_326b;
/**
 * Creator string for files we write. qemu sizes disks whose creator is `win ` by `currentSize`
 * (not by CHS), so qemu, Hyper-V and Azure all see the same, whole-MiB size.
 */
export const DEFAULT_CREATOR_APPLICATION = 'win ';
/** Hyper-V's creator version (10.0), written with the Windows creator string. */
export const DEFAULT_CREATOR_VERSION = 0x000a_0000;
export const FOOTER_CHECKSUM_OFFSET = footerStruct.fields.checksum.offset;

export interface Geometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/**
 * CHS geometry of a disk of `totalSectors`, by the specification's algorithm (integer arithmetic,
 * rounding down, saturating at 65535/16/255 for disks above ~127 GiB).
 */
export function diskGeometry(totalSectors: number): Geometry {
  const sectors = Math.min(totalSectors, 65535 * 16 * 255);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (sectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    heads = Math.max(4, Math.floor((cylinderTimesHeads + 1023) / 1024));
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}

/** Seconds since the VHD epoch for `date`, clamped to the 32-bit field. */
export function vhdTimestamp(date: Date = new Date()): number {
  const seconds = Math.floor(date.getTime() / 1000) - VHD_EPOCH_OFFSET_SECONDS;
  return Math.min(Math.max(seconds, 0), 0xffff_ffff);
}

/** Encodes `fields` with a freshly computed checksum (the given `checksum` is ignored). */
export function encodeFooter(fields: FooterFields): Uint8Array {
  return encodeChecksummed(footerStruct, fields);
}

export interface NewFooterOptions {
  /** Disk size in bytes as the guest sees it; a multiple of 512. */
  virtualSize: number;
  diskType: DiskTypeName;
  /** 16 random bytes when omitted. */
  uniqueId?: Uint8Array;
  /** Now when omitted. */
  timestamp?: Date;
  /** Header offset of dynamic and differencing disks (512 in files we write). */
  dataOffset?: number;
  creatorApplication?: string;
}

/** The footer of a new disk, with spec geometry and the Windows creator string by default. */
export function newFooter(options: NewFooterOptions): FooterFields {
  const { virtualSize, diskType } = options;
  if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize % SECTOR_SIZE !== 0) {
    throw new RangeError(`"virtualSize" expected a positive multiple of 512, got ${virtualSize}`);
  }
  const uniqueId = options.uniqueId ?? crypto.getRandomValues(new Uint8Array(16));
  return {
    cookie: FOOTER_COOKIE,
    features: FEATURES_RESERVED,
    fileFormatVersion: FILE_FORMAT_VERSION,
    dataOffset: diskType === 'fixed' ? NO_DATA_OFFSET : BigInt(options.dataOffset ?? FOOTER_SIZE),
    timestamp: vhdTimestamp(options.timestamp),
    creatorApplication: options.creatorApplication ?? DEFAULT_CREATOR_APPLICATION,
    creatorVersion: DEFAULT_CREATOR_VERSION,
    creatorHostOs: HOST_OS_WINDOWS,
    originalSize: BigInt(virtualSize),
    currentSize: BigInt(virtualSize),
    ...diskGeometry(virtualSize / SECTOR_SIZE),
    diskType: DiskType[diskType],
    checksum: 0,
    uniqueId,
    savedState: 0,
  };
}
