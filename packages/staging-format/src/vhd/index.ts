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
export { vhdChecksum } from './struct.ts';
