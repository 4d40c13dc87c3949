/** The embedded Node-RED runtime as the frequency benches drive it: deploy a flow, reach its nodes. */
export interface NodeInstance {
  receive(msg: Record<string, unknown>): void;
  on(event: 'input', listener: (msg: Record<string, unknown>) => void): void;
}

export interface Red {
  nodes: { getNode(id: string): NodeInstance | null };
  runtime: { flows: { setFlows(opts: unknown): Promise<unknown> } };
}

/** Deploys `flow` in full and resolves once the node `firstId` has started. */
export async function deployFlow(
  RED: Red,
  flow: Record<string, unknown>[],
  firstId: string,
): Promise<NodeInstance> {
  await RED.runtime.flows.setFlows({ flows: { flows: flow }, deploymentType: 'full' });
  let first: NodeInstance | null = null;
  for (let i = 0; i < 5000 && !(first = RED.nodes.getNode(firstId)); i++)
    await new Promise((r) => setTimeout(r, 2));
  if (!first) throw new Error(`the bench flow did not start (no node ${firstId}: are the nodes built?)`);
  return first;
}
