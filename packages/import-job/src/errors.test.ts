import { describe, expect, it } from 'vitest';
import { ImportJobError } from './errors.ts';

const where = { statusCode: 409, serviceCode: 'Conflict', requestId: 'r-1' };

describe('ImportJobError', () => {
  it('carries a stable code and where the problem is, and chains its cause', () => {
    const cause = new Error('underlying');
    const error = new ImportJobError('ARM_REQUEST_FAILED', 'something went wrong', {
      ...where,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'ImportJobError', code: 'ARM_REQUEST_FAILED', ...where });
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('ImportJobError: something went wrong');
  });

  it('leaves unknown locations undefined and sets no cause', () => {
    const error = new ImportJobError('ARM_REQUEST_FAILED', 'x');
    expect(error.statusCode).toBeUndefined();
    expect('cause' in error).toBe(false);
  });
});
