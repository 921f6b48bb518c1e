import { defineConfig, packageBuild } from '../../tsup.config.base.ts';

export default defineConfig(packageBuild());
