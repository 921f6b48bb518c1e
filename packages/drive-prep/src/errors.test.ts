import { describe, expect, it } from 'vitest';
import { DrivePrepError } from './errors.ts';

const where = { driveId: 'WD-123', path: 'vol-0001.vhd', offset: 4194304 };

describe('DrivePrepError', () => {
  it('carries a stable code and where the problem is, and chains its cause', () => {
    const cause = new Error('underlying');
    const error = new DrivePrepError('COPY_HASH_MISMATCH', 'something went wrong', {
      ...where,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'DrivePrepError', code: 'COPY_HASH_MISMATCH', ...where });
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('DrivePrepError: something went wrong');
  });

  it('leaves unknown locations undefined and sets no cause', () => {
    const error = new DrivePrepError('COPY_HASH_MISMATCH', 'x');
    expect(error.driveId).toBeUndefined();
    expect('cause' in error).toBe(false);
  });
});
