export {
  type AzureCompatibilityOptions,
  azureCompatibility,
  type CheckVhdOptions,
  checkVhd,
  MAX_MANAGED_DISK_SIZE,
  MAX_PAGE_BLOB_SIZE,
  MIN_MANAGED_DISK_SIZE,
} from './check.ts';
export {
  type ConvertOptions,
  type ConvertResult,
  type ConvertTarget,
  type CreateDifferencingOptions,
  convertDisk,
  createDifferencing,
  type DiskWorkOptions,
  type Progress,
  rawDisk,
  zeroDisk,
} from './convert.ts';
export {
  bitAt,
  formatUuid,
  MAX_CHAIN_DEPTH,
  type OpenVhdOptions,
  openVhd,
  VhdDisk,
  type VirtualDisk,
} from './disk.ts';
export {
  DEFAULT_CREATOR_APPLICATION,
  DiskType,
  type DiskTypeName,
  diskGeometry,
  encodeFooter,
  FOOTER_COOKIE,
  FOOTER_SIZE,
  type FooterFields,
  footerStruct,
  type Geometry,
  type NewFooterOptions,
  NO_DATA_OFFSET,
  newFooter,
  SECTOR_SIZE,
  vhdTimestamp,
} from './footer.ts';
export {
  bitmapSize,
  DEFAULT_BLOCK_SIZE,
  encodeHeader,
  HEADER_SIZE,
  type HeaderFields,
  headerStruct,
  LocatorPlatform,
  UNALLOCATED,
} from './header.ts';
export {
  MAX_BLOCK_SIZE,
  MAX_DYNAMIC_SIZE,
  MAX_TABLE_ENTRIES,
  type ParentLocator,
  type ParentReference,
  type VhdLayout,
} from './layout.ts';
export type { VhdProblem } from './problems.ts';
export { vhdChecksum } from './struct.ts';
export { type ListExtentsOptions, listExtents, VirtualFixedVhd } from './virtual-fixed.ts';
export {
  DynamicVhdWriter,
  type DynamicVhdWriterOptions,
  FixedVhdWriter,
  type FixedVhdWriterOptions,
  type ParentLink,
  sealFixedVhd,
  type VhdIdentityOptions,
  type WrittenVhd,
} from './writer.ts';
export {
  equalBytes,
  isZero,
  MAX_PAGE_RANGE,
  NonZeroRangeFinder,
  type NonZeroRangeFinderOptions,
  type Range,
  splitRange,
} from './zero.ts';
