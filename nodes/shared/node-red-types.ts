/**
 * The small part of Node-RED's API that gridflow nodes use, typed once. The few casts
 * between Node-RED's own types and gridflow's live here and nowhere else in nodes/.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';

export type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus };

/** A msg as nodes see it: any properties. */
export type Msg = NodeMessage & Record<string, unknown>;

export type Send = (msg: Msg | Array<Msg | Msg[] | null> | null) => void;
export type Done = (err?: Error) => void;

/** How Node-RED stores a node's credentials fields (in the editor and flows_cred.json). */
export type CredentialFields = Record<string, { type: 'text' | 'password' }>;

/** A node constructor as gridflow writes it: `this` may carry the node's own fields. */
export type NodeConstructor<N extends Node, C extends NodeDef> = (this: N, config: C) => void;

/**
 * RED.nodes.registerType for a constructor typed with its own node and config: Node-RED's
 * typings want `this` to be exactly Node<credentials> and the config exactly NodeDef.
 */
export function registerNodeType<N extends Node, C extends NodeDef>(
  RED: NodeAPI,
  type: string,
  construct: NodeConstructor<N, C>,
  credentials?: CredentialFields,
): void {
  const untyped = construct as unknown as NodeConstructor<Node, NodeDef>;
  if (credentials) RED.nodes.registerType(type, untyped, { credentials });
  else RED.nodes.registerType(type, untyped);
}

/** A msg that arrived at a node's input, as nodes see it. */
export function inputMsg(input: NodeMessageInFlow): Msg {
  return input as Msg;
}

/** Node-RED's send as nodes use it: a msg, one per output, or arrays of msgs per output. */
export function sendOf(send: (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void): Send {
  return send as Send;
}

/** A node's credentials (blank fields are absent): Node-RED types them as `{}` until set. */
export function credentialsOf<T extends object>(node: Node): Partial<T> {
  return ((node as Node & { credentials?: Partial<T> }).credentials ?? {}) as Partial<T>;
}

/**
 * A flow/global env var as the node sees it (`${NAME}` scoping); undefined when unset,
 * which Node-RED's typings leave out.
 */
export function nodeSetting(RED: NodeAPI, node: Node, name: string): string | undefined {
  return RED.util.getSetting(node, name) as string | undefined;
}
