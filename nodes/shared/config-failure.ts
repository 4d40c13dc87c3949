import type { Done, Node } from './node-red-types';
import { showStatus } from './status';

/**
 * A node whose settings are invalid: it says so once in the log, shows it in its
 * status, and fails every msg with the same error (so Catch nodes see it) instead of
 * dropping msgs silently.
 */
export function failOnBadConfig(node: Node, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  node.error(`invalid configuration: ${error.message}`);
  showStatus(node, 'error', 'bad config');
  node.on('input', (_msg: unknown, _send: unknown, done: Done) => done(error));
}
