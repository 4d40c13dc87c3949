/** The small part of Node-RED's API that gridflow nodes use, typed once. */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';

export type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus };

/** A msg as nodes see it: any properties. */
export type Msg = NodeMessage & Record<string, unknown>;

export type Send = (msg: Msg | Array<Msg | Msg[] | null> | null) => void;
export type Done = (err?: Error) => void;
