/**
 * cov-resampler's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const COV_RESAMPLER_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows saved before buckets closed in event time (f4dbf9f): the idle fallback and the
    // future bound get the defaults they have had since.
    version: 1,
    up: (config) => ({ idleSeconds: 60, maxFutureSeconds: 300, ...config }),
  },
];
