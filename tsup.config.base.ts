import { defineConfig, type Options } from 'tsup';

/** The build every package shares: ESM only, declarations, dependencies left external. */
export function packageBuild(entry: Record<string, string> = { index: 'src/index.ts' }): Options {
  return {
    entry,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    dts: true,
    clean: true,
    splitting: true,
    treeshake: true,
  };
}

export { defineConfig };
