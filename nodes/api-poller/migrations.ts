/**
 * api-poller's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const API_POLLER_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows saved before records stamped in the future were dropped (c33a4d8) had no bound;
    // they get the default one (300 s), which only drops records from a clock gone wrong.
    version: 1,
    up: (config) => ({ maxFutureSeconds: 300, ...config }),
  },
];
