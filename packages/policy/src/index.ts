export { PolicyError, type PolicyErrorCode } from './errors.ts';
