/**
 * aedes-broker's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const AEDES_BROKER_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Version 1 = the shape of the first release: flows saved without a version need no change.
    version: 1,
    up: (config) => config,
  },
  {
    // Before the broker had an output (issue 16): it sends nothing.
    version: 2,
    up: (config) => ({ subscribe: '', datatype: 'auto', ...config }),
  },
];
