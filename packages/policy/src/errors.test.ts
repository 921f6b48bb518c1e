import { describe, expect, it } from 'vitest';
import { PolicyError } from './errors.ts';

const where = { field: 'retentionPolicy.dailySchedule' };

describe('PolicyError', () => {
  it('carries a stable code and where the problem is, and chains its cause', () => {
    const cause = new Error('underlying');
    const error = new PolicyError('POLICY_INVALID', 'something went wrong', { ...where, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'PolicyError', code: 'POLICY_INVALID', ...where });
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('PolicyError: something went wrong');
  });

  it('leaves unknown locations undefined and sets no cause', () => {
    const error = new PolicyError('POLICY_INVALID', 'x');
    expect(error.field).toBeUndefined();
    expect('cause' in error).toBe(false);
  });
});
