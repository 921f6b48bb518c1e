import { describe, expect, it } from 'vitest';
import { ChunkEngineError } from './errors.ts';

const where = { blobId: 'ab12', path: 'docs/a.txt' };

describe('ChunkEngineError', () => {
  it('carries a stable code and where the problem is, and chains its cause', () => {
    const cause = new Error('underlying');
    const error = new ChunkEngineError('BLOB_AUTH_FAILED', 'something went wrong', {
      ...where,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'ChunkEngineError', code: 'BLOB_AUTH_FAILED', ...where });
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('ChunkEngineError: something went wrong');
  });

  it('leaves unknown locations undefined and sets no cause', () => {
    const error = new ChunkEngineError('BLOB_AUTH_FAILED', 'x');
    expect(error.blobId).toBeUndefined();
    expect('cause' in error).toBe(false);
  });
});
