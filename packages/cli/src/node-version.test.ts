import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from './node-version.ts';

describe('nodeVersionProblem', () => {
  it('accepts 22.15 and later', () => {
    for (const version of ['22.15.0', '22.20.1', '23.0.0', '24.21.0', '100.0.0']) {
      expect(nodeVersionProblem(version)).toBeUndefined();
    }
  });

  it('names the version it needs and the one it got', () => {
    for (const version of ['22.14.9', '20.20.2', '18.0.0', '4.9.1']) {
      expect(nodeVersionProblem(version)).toBe(
        `Node.js 22.15 or later is needed; this is Node.js ${version}`,
      );
    }
  });

  it('refuses a version it cannot read', () => {
    expect(nodeVersionProblem('')).toMatch(/Node\.js 22\.15 or later is needed/);
    expect(nodeVersionProblem('x.y')).toMatch(/Node\.js 22\.15 or later is needed/);
  });
});
