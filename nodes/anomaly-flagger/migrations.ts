/**
 * anomaly-flagger's saved-config history, applied at construction (nodes/shared/node-handler.ts)
 * and, from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const ANOMALY_FLAGGER_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // The threshold was `k`, a single-letter name the Node-RED editor drops on every
    // save (it reserves them): flows saved with `k` keep their threshold as `sigmas`.
    version: 1,
    up: ({ k, ...config }) =>
      config.sigmas === undefined && k !== undefined ? { ...config, sigmas: k } : config,
  },
];
