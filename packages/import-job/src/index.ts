export { ImportJobError, type ImportJobErrorCode } from './errors.ts';
