import type { Node, NodeAPI } from './node-red-types';

/**
 * Node state in the Node-RED context store, so it survives a redeploy and a restart
 * when the default store persists (the app configures a localfilesystem store). In a
 * default Node-RED userDir the store is memory: each stateful node says once that its
 * state will not survive a restart, and how to change that.
 */
/**
 * The shape of a node's saved state. Every save writes `version` beside the state (context
 * key `<key>Version`, set in the same tick, so the store flushes both together); a load
 * upgrades an older version step by step and refuses one it does not know.
 */
export interface StateFormat {
  /** The version saveState writes now (≥ 1). */
  version: number;
  /** upgrades[v] turns a version-v state into version v + 1; v = 0 is a state saved before states had a version. */
  upgrades?: Record<number, (state: unknown) => unknown>;
}

/** Version 1 is the shape the nodes saved before states carried a version: nothing to convert. */
export const STATE_V1: StateFormat = { version: 1, upgrades: { 0: (state) => state } };

const versionKey = (key: string) => `${key}Version`;

/** The saved state upgraded to `format.version`, or the reason it cannot be. */
export function upgradeState(
  saved: unknown,
  savedVersion: number,
  format: StateFormat,
): { ok: true; state: unknown } | { ok: false; reason: string } {
  let state = saved;
  for (let v = savedVersion; v < format.version; v++) {
    const up = format.upgrades?.[v];
    if (up === undefined) return { ok: false, reason: `no upgrade from version ${v}` };
    state = up(state);
  }
  if (savedVersion > format.version)
    return { ok: false, reason: `version ${savedVersion} is newer than this gridflow's ${format.version}` };
  return { ok: true, state };
}

export function loadState<T>(node: Node, format: StateFormat = STATE_V1, key = 'state'): T | undefined {
  warnOnceIfMemoryOnly(node);
  try {
    const context = node.context();
    const saved = context.get(key);
    if (saved === undefined) return undefined;
    const rawVersion = context.get(versionKey(key));
    const version = rawVersion === undefined ? 0 : Number(rawVersion);
    const upgraded = Number.isInteger(version)
      ? upgradeState(saved, version, format)
      : { ok: false as const, reason: `version "${String(rawVersion)}" is not a number` };
    if (upgraded.ok) return upgraded.state as T;
    // Kept aside, not overwritten by the next save: a newer gridflow can still restore it.
    const keptAs = `${key}-refused-v${String(rawVersion)}`;
    context.set(keptAs, saved);
    node.warn(
      `saved state not restored: ${upgraded.reason}; starting empty. ` +
        `The saved state is kept in context key "${keptAs}" (was gridflow downgraded?)`,
    );
    return undefined;
  } catch (err) {
    node.warn(`could not read saved state (${(err as Error).message}); starting empty`);
    return undefined;
  }
}

export function saveState(node: Node, value: unknown, format: StateFormat = STATE_V1, key = 'state'): void {
  try {
    const context = node.context();
    context.set(key, value);
    context.set(versionKey(key), format.version);
  } catch (err) {
    node.warn(`could not save state (${(err as Error).message})`);
  }
}

export const MEMORY_STATE_WARNING =
  'state is kept in memory only and is lost on restart: add a localfilesystem context store ' +
  "to settings.js (contextStorage: { default: { module: 'localfilesystem' } }, see the README)";

/** The runtime's contextStorage setting, once a gridflow node module has seen RED. */
let contextStorage: { known: false } | { known: true; setting: unknown } = { known: false };
const warnedNodes = new Set<string>();

/** Every gridflow node module hands its RED here; one is enough for all of them. */
export function useNodeRedSettings(RED: NodeAPI): void {
  contextStorage = { known: true, setting: (RED.settings as { contextStorage?: unknown }).contextStorage };
}

/**
 * Whether Node-RED's default context store keeps values across a restart, read as
 * Node-RED reads `contextStorage`: no setting = memory; `default` names a store (or is
 * one); without `default` the first store listed is the default. Custom modules count
 * as persistent.
 */
export function defaultStorePersists(setting: unknown): boolean {
  if (setting === null || typeof setting !== 'object') return false;
  const stores = setting as Record<string, unknown>;
  const names = Object.keys(stores);
  if (names.length === 0) return false;
  let store = stores.default ?? stores[names[0]];
  if (typeof store === 'string') store = stores[store];
  const module = (store as { module?: unknown } | undefined)?.module;
  return module !== undefined && module !== 'memory';
}

function warnOnceIfMemoryOnly(node: Node): void {
  if (!contextStorage.known || defaultStorePersists(contextStorage.setting) || warnedNodes.has(node.id))
    return;
  warnedNodes.add(node.id);
  node.warn(MEMORY_STATE_WARNING);
}
