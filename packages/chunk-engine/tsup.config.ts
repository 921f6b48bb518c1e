import { defineConfig, packageBuild } from '../../tsup.config.base.ts';

export default defineConfig(
  packageBuild({
    index: 'src/index.ts',
    node: 'src/node.ts',
    'seal-worker': 'src/node/seal-worker.ts',
  }),
);
