/** The oldest Node.js the packages run on (native zstd, `isMarkedAsUntransferable`). */
export const minimumNode = { major: 22, minor: 15 } as const;

/**
 * Why `version` (as in `process.versions.node`, e.g. "22.15.0") cannot run offline-seed, or
 * undefined when it can.
 */
export function nodeVersionProblem(version: string): string | undefined {
  const [major = Number.NaN, minor = Number.NaN] = version.split('.').map(Number);
  const recent =
    major > minimumNode.major || (major === minimumNode.major && minor >= minimumNode.minor);
  return recent
    ? undefined
    : `Node.js ${minimumNode.major}.${minimumNode.minor} or later is needed; this is Node.js ${version}`;
}
