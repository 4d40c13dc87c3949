import type { Node } from './node-red-types';

/**
 * Node state in the Node-RED context store, so it survives a redeploy and a restart
 * (the app configures a localfilesystem store). Stored under the node's own context.
 */
export function loadState<T>(node: Node, key = 'state'): T | undefined {
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
