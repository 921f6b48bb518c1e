export {
  type ExistingPoint,
  POINTS_FORMAT_VERSION,
  type PointChange,
  type PointChangeEntry,
  type PolicyChangeOptions,
  type PolicyChangePlan,
  parseExistingPoints,
  planPolicyChange,
} from './azure/change.ts';
export {
  type AliveStep,
  aliveTimeline,
  countAlive,
  MAX_RECOVERY_POINTS,
  type PointLifetime,
  peakAlive,
  projectStorage,
  type StorageOptions,
  type StorageSample,
  tierPointBounds,
} from './azure/counts.ts';
export * from './azure/model.ts';
export { parsePolicy, serializePolicy } from './azure/parse.ts';
export {
  type ExpandOptions,
  expandSchedule,
  type RecoveryPoint,
  simulateRecoveryPoints,
  type TimeRange,
} from './azure/simulate.ts';
export { assertValidPolicy, type PolicyIssue, validatePolicy } from './azure/validate.ts';
export { PolicyError, type PolicyErrorCode } from './errors.ts';
export {
  type Archive,
  applyBorgKeepRules,
  type BorgKeepOptions,
  type BorgKeepReason,
  type BorgKeepResult,
  type BorgKeepRules,
  parseBorgInterval,
} from './keep/borg.ts';
export {
  applyResticKeepRules,
  formatKeepDuration,
  type KeepDuration,
  type KeepReason,
  type KeepResult,
  parseKeepDuration,
  type ResticKeepOptions,
  type ResticKeepRules,
  type SnapshotGroupKey,
} from './keep/restic.ts';
export { parseSnapshots, type Snapshot } from './keep/snapshot-time.ts';
export {
  type CalendarOptions,
  type CalendarPoint,
  renderRetentionCalendar,
} from './render/calendar-svg.ts';
export { windowsToIana } from './time/windows-zones.ts';
export { resolveTimeZoneName, type TimeZone, timeZone } from './time/zone.ts';
