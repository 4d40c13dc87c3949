/**
 * cov-filter's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const COV_FILTER_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows saved before event time (fcafa9d): arrival time (blank timeProperty), no lateness.
    version: 1,
    up: (config) => ({
      timeProperty: '',
      latenessSeconds: 0,
      idleSeconds: '',
      maxFutureSeconds: 300,
      ...config,
    }),
  },
];
