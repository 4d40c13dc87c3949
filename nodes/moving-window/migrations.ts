/**
 * moving-window's saved-config history, applied at construction (nodes/shared/node-handler.ts) and,
 * from the same compiled steps, in the editor (resources/config-migrations.js). Each `up`
 * is self-contained (no imports): the build copies its source into the editor script.
 */
import type { ConfigMigration } from '../shared/config-migrations';

export const MOVING_WINDOW_MIGRATIONS: readonly ConfigMigration[] = [
  {
    // Flows from the first release (60c5569) saved the aggregates as text ("mean,max") and
    // predate event time (df7ffd5), emitWarmup (8a8b0b7), maxKeys and checkpoints: they
    // get the settings that keep their behaviour (arrival time: idle blank = at once).
    version: 1,
    up: ({ aggregates, ...config }) => ({
      idleSeconds: '',
      maxFutureSeconds: 300,
      lateOutput: 'output',
      emitWarmup: true,
      maxKeys: 100000,
      checkpointSeconds: 60,
      ...config,
      aggregates:
        typeof aggregates === 'string'
          ? aggregates
              .split(',')
              .map((name) => name.trim())
              .filter((name) => name !== '')
          : (aggregates ?? ['mean']),
    }),
  },
  {
    // Before the batch output (issue 16): one msg per window, as they always were.
    version: 2,
    up: (config) => ({ output: 'each', ...config }),
  },
];
