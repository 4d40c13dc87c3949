import type { Node, NodeAPI } from './node-red-types';

/**
 * Node state in the Node-RED context store, so it survives a redeploy and a restart
 * when the default store persists (the app configures a localfilesystem store). In a
 * default Node-RED userDir the store is memory: each stateful node says once that its
 * state will not survive a restart, and how to change that.
 */
export function loadState<T>(node: Node, key = 'state'): T | undefined {
  warnOnceIfMemoryOnly(node);
  try {
    return node.context().get(key) as T | undefined;
  } catch (err) {
    node.warn(`could not read saved state (${(err as Error).message}); starting empty`);
    return undefined;
  }
}

export function saveState(node: Node, value: unknown, key = 'state'): void {
  try {
    node.context().set(key, value);
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
