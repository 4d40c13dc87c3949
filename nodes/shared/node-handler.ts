/**
 * The one way a gridflow node is registered and takes input: its saved config lifted to
 * the current version first (config-migrations.ts), and an input handler that sees a typed
 * msg, send and done, where an error thrown (or a promise rejected) inside becomes
 * `done(err)` with the node's status showing it ('bad input' unless the node names
 * another text), so a Catch node gets the msg and the flow keeps going.
 */
import { migrateConfig, type ConfigMigration } from './config-migrations';
import {
  inputMsg,
  registerNodeType,
  sendOf,
  type CredentialFields,
  type Done,
  type Msg,
  type Node,
  type NodeAPI,
  type NodeConstructor,
  type NodeDef,
  type Send,
} from './node-red-types';
import { showStatus } from './status';

/** A node's input handler: it calls done() (or done(err)) once per msg, or throws. */
export type InputHandler = (msg: Msg, send: Send, done: Done) => void | Promise<void>;

/** Registers `handle` as the node's input handler (one closure per node, none per msg). */
export function onInput(node: Node, handle: InputHandler, failStatus = 'bad input'): void {
  const fail = (err: unknown, done: Done) => {
    showStatus(node, 'warn', failStatus);
    done(err instanceof Error ? err : new Error(String(err)));
  };
  node.on('input', (input, send, done) => {
    try {
      const pending = handle(inputMsg(input), sendOf(send), done);
      if (pending !== undefined) pending.catch((err: unknown) => fail(err, done));
    } catch (err) {
      fail(err, done);
    }
  });
}

/**
 * Registers a node type whose constructor gets its saved config migrated to the current
 * version: a flow saved by any earlier release constructs as today's shape.
 */
export function registerNode<N extends Node, C extends NodeDef>(
  RED: NodeAPI,
  type: string,
  migrations: readonly ConfigMigration[],
  construct: NodeConstructor<N, C>,
  credentials?: CredentialFields,
): void {
  function constructMigrated(this: N, config: C): void {
    construct.call(this, withHiddenFields(config, migrateConfig(config, migrations)));
  }
  registerNodeType(RED, type, constructMigrated, credentials);
}

/** Node-RED hands the flow to a node as a non-enumerable `_flow` on its config: keep such fields. */
function withHiddenFields<T extends object>(from: object, to: T): T {
  for (const key of Object.getOwnPropertyNames(from)) {
    const field = Object.getOwnPropertyDescriptor(from, key);
    if (field && !field.enumerable) Object.defineProperty(to, key, field);
  }
  return to;
}
