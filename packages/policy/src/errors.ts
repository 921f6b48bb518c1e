/** Stable error codes of {@link PolicyError}. */
export type PolicyErrorCode =
  /** The policy JSON is not an object of the expected shape. */
  | 'POLICY_MALFORMED'
  /** A field breaks a documented rule or limit; {@link PolicyError.field} names it. */
  | 'POLICY_INVALID'
  /** A time zone name is neither an IANA zone nor a known Windows zone. */
  | 'UNKNOWN_TIME_ZONE'
  /** A snapshot or archive list is not `[{ id, time, tags? }]` with RFC 3339 times. */
  | 'SNAPSHOTS_MALFORMED'
  /** A recovery-point list is not `[{ time, tags, expiry? }]`. */
  | 'POINTS_MALFORMED'
  /** Keep rules would remove every snapshot and that was not explicitly allowed. */
  | 'KEEP_REMOVES_ALL';

/** The one error class of `@offline-seed/policy`. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code: PolicyErrorCode;
  /** Dotted path of the offending field, e.g. `retentionPolicy.dailySchedule.retentionDuration.count`. */
  readonly field: string | undefined;

  constructor(
    code: PolicyErrorCode,
    message: string,
    where: { field?: string; cause?: unknown } = {},
  ) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    this.field = where.field;
  }
}
