import { parseAllSettings } from './config-number';
import type { Done, Node } from './node-red-types';
import { showStatus } from './status';

/** How often a node that cannot work repeats why in the log. */
const LOG_EVERY_MS = 60_000;

/**
 * A node that cannot work (bad settings, no connection): it says why in the log — at
 * once, then at most once a minute while msgs keep coming — shows it in its status, and
 * fails every msg with the same error through done(err), so Catch nodes see each one.
 */
export function failEveryMsg(node: Node, err: unknown, statusText: string): void {
  const error = err instanceof Error ? err : new Error(String(err));
  let loggedAt = Date.now();
  node.error(error.message);
  showStatus(node, 'error', statusText);
  node.on('input', (_msg: unknown, _send: unknown, done: Done) => {
    if (Date.now() - loggedAt >= LOG_EVERY_MS) {
      loggedAt = Date.now();
      node.warn(`still failing every msg: ${error.message}`);
    }
    done(error);
  });
}

/**
 * A node whose settings are invalid: it says so in the log, shows it in its status, and
 * fails every msg with the same error (so Catch nodes see it) instead of dropping msgs
 * silently. Parse settings with `parseAllSettings` so the error lists every bad one.
 */
export function failOnBadConfig(node: Node, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  failEveryMsg(node, new Error(`invalid configuration: ${error.message}`), 'bad config');
}

/**
 * A node's settings from `parse` (every bad one reported at once, see parseAllSettings), or
 * undefined when they are invalid: the node then fails every msg (failOnBadConfig).
 */
export function settingsOrFail<S>(node: Node, parse: () => S): S | undefined {
  try {
    return parseAllSettings(parse);
  } catch (err) {
    failOnBadConfig(node, err);
    return undefined;
  }
}
