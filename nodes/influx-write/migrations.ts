/**
 * influx-write's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const INFLUX_WRITE_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows saved before createDatabases (baa6411) created any database a msg named; that
    // release chose on purpose to stop doing so (security), so they get the default
    // 'configured' like any flow without the setting: nothing to change.
    version: 1,
    up: (config) => config,
  },
];
