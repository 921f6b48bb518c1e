/** Stable error codes of {@link ImportJobError}. */
export type ImportJobErrorCode =
  /** Azure Resource Manager answered with an error; see {@link ImportJobError.statusCode}. */
  | 'ARM_REQUEST_FAILED'
  /** The service could not be reached (DNS, connection refused, timeout). */
  | 'SERVICE_UNREACHABLE'
  /** The job is in a state that does not allow the requested operation. */
  | 'JOB_STATE_CONFLICT'
  /** A blob in the storage account differs from its drive manifest. */
  | 'BLOB_VERIFY_FAILED';

/**
 * The one error class of `@offline-seed/import-job`. Request details are kept, but never
 * `Authorization` headers, SAS signatures or account keys.
 */
export class ImportJobError extends Error {
  override readonly name = 'ImportJobError';
  readonly code: ImportJobErrorCode;
  /** HTTP status of the failed request, when there was one. */
  readonly statusCode: number | undefined;
  /** The service's own error code (e.g. `ResourceNotFound`), when it gave one. */
  readonly serviceCode: string | undefined;
  /** `x-ms-request-id` of the failed request, for support cases. */
  readonly requestId: string | undefined;

  constructor(
    code: ImportJobErrorCode,
    message: string,
    where: { statusCode?: number; serviceCode?: string; requestId?: string; cause?: unknown } = {},
  ) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    this.statusCode = where.statusCode;
    this.serviceCode = where.serviceCode;
    this.requestId = where.requestId;
  }
}
