/**
 * The shipped flows: one JSON file per tab in flows/, merged into the app's flow file.
 * Config nodes shared by several tabs appear in each file (so each imports alone from
 * Import > Examples) and are kept once here, by id.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type FlowNode = { id: string; type: string; [key: string]: unknown };

export function readShippedFlows(flowsDir: string): FlowNode[] {
  const merged = new Map<string, FlowNode>();
  const files = readdirSync(flowsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of files) {
    let nodes: FlowNode[];
    try {
      nodes = JSON.parse(readFileSync(join(flowsDir, file), 'utf8')) as FlowNode[];
    } catch (err) {
      throw new Error(`flows/${file} is not valid JSON: ${(err as Error).message}`);
    }
    for (const node of nodes) if (!merged.has(node.id)) merged.set(node.id, node);
  }
  return [...merged.values()];
}

/** Writes the shipped flows to the userDir's flow file unless the user already has one (or `reset`). */
export function seedFlowFile(flowsDir: string, flowFile: string, reset: boolean): boolean {
  if (existsSync(flowFile) && !reset) return false;
  writeFileSync(flowFile, JSON.stringify(readShippedFlows(flowsDir), null, 2));
  return true;
}
