/**
 * forecaster's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const FORECASTER_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows saved before event time (4a0a8dd): no lateness, the idle fallback and future bound defaults.
    version: 1,
    up: (config) => ({ latenessSeconds: 0, idleSeconds: 300, maxFutureSeconds: 300, ...config }),
  },
];
