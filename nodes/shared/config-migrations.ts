/**
 * Saved-config migrations: a node's settings as saved in a flow file, lifted step by step
 * to today's shape when the node is constructed (and, mirrored in its editor file, when
 * its dialog opens). A flow saved before versions existed has no `version`: version 0.
 */

/** A node's config as a flow file stores it. */
export type SavedConfig = Record<string, unknown>;

/** One step: `up` turns a config of version `version - 1` into version `version`. */
export interface ConfigMigration {
  readonly version: number;
  up(config: SavedConfig): SavedConfig;
}

/** The version a saved config was written at: 0 when it has none. */
export function savedVersion(config: SavedConfig): number {
  const version = Number(config.version ?? 0);
  return Number.isInteger(version) && version > 0 ? version : 0;
}

/** The version a node's newest migration brings a config to (0 without migrations). */
export function currentVersion(migrations: readonly ConfigMigration[]): number {
  return migrations.reduce((newest, step) => Math.max(newest, step.version), 0);
}

/** Applies, in order, every step newer than the config's version; the result has `version` = current. */
export function migrateConfig<C extends object>(
  config: C,
  migrations: readonly ConfigMigration[],
): C & { version: number } {
  const from = savedVersion(config as SavedConfig);
  let migrated: SavedConfig = { ...(config as SavedConfig) };
  for (const step of [...migrations].sort((a, b) => a.version - b.version))
    if (step.version > from) migrated = { ...step.up(migrated), version: step.version };
  return { ...migrated, version: Math.max(from, currentVersion(migrations)) } as C & { version: number };
}
