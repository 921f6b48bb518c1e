export { DrivePrepError, type DrivePrepErrorCode } from './errors.ts';
