/**
 * series-request's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const SERIES_REQUEST_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows saved before rollups (9ddadec) read the raw series only: no rollup levels.
    version: 1,
    up: (config) => ({ rollupLevels: '', rollupRetentionPolicy: '', ...config }),
  },
];
