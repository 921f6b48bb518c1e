import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const packageNames = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// Tests import sibling packages from source, so they run without a build.
const alias = packageNames.flatMap((name) => [
  {
    find: new RegExp(`^@offline-seed/${name}/node$`),
    replacement: `${packagesDir}${name}/src/node.ts`,
  },
  {
    find: new RegExp(`^@offline-seed/${name}$`),
    replacement: `${packagesDir}${name}/src/index.ts`,
  },
]);

export default defineConfig({
  resolve: { alias },
  test: {
    setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
    // Integration tests spawn processes and derive keys; a loaded 2-core machine needs headroom.
    testTimeout: 60_000,
    clearMocks: true,
    restoreMocks: true,
    allowOnly: false,
    // In CI a JSON report lets .ci/run print one closing "N passed, N failed" line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.tools/vitest-report.json' }]]
      : ['default'],
    projects: packageNames.map((name) => ({
      extends: true,
      test: {
        name,
        root: `${packagesDir}${name}`,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      },
    })),
  },
});
