import { defineConfig, packageBuild } from '../../tsup.config.base.ts';

export default defineConfig(packageBuild({ index: 'src/index.ts', bin: 'src/bin.ts' }));
