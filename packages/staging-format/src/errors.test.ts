import { describe, expect, it } from 'vitest';
import { isStagingFormatError, StagingFormatError } from './errors.ts';

describe('StagingFormatError', () => {
  it('carries a stable code, the offset and the path', () => {
    const error = new StagingFormatError('SOURCE_SHORT_READ', 'ended early', {
      offset: 512,
      path: 'a.vhd',
    });
    expect(error).toMatchObject({
      name: 'StagingFormatError',
      code: 'SOURCE_SHORT_READ',
      offset: 512,
      path: 'a.vhd',
    });
    expect('cause' in error).toBe(false);
  });

  it('is recognised by name and code, also when it comes from another copy of the package', () => {
    const error = new StagingFormatError('SOURCE_CLOSED', 'closed');
    expect(isStagingFormatError(error)).toBe(true);
    expect(isStagingFormatError(error, 'SOURCE_CLOSED')).toBe(true);
    expect(isStagingFormatError(error, 'SOURCE_IO')).toBe(false);
    const foreign = Object.assign(new Error('closed'), {
      name: 'StagingFormatError',
      code: 'SOURCE_CLOSED',
    });
    expect(isStagingFormatError(foreign, 'SOURCE_CLOSED')).toBe(true);
    expect(isStagingFormatError(new TypeError('x'))).toBe(false);
    expect(isStagingFormatError('SOURCE_CLOSED')).toBe(false);
  });
});
