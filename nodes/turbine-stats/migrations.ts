/**
 * turbine-stats's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const TURBINE_STATS_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows saved before the event-time watermark (e2f1e2a): no lateness, default idle and future bound.
    version: 1,
    up: (config) => ({ latenessSeconds: 0, idleSeconds: 300, maxFutureSeconds: 300, ...config }),
  },
];
