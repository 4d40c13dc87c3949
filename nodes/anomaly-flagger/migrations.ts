/**
 * anomaly-flagger's saved-config history. The editor's copy of these steps is in
 * anomaly-flagger.html (`migrateAnomalyFlagger`): keep the two in step.
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
