/**
 * A newcomer's first minute: one line per tab saying what it does right now (reading which
 * files, polling what, or why not), then a line per tab event worth knowing: a CSV run
 * ingested ("Grid frequency: ingested 2,880 rows"), a poller's first success or failure.
 * Read from the flow config, Node-RED's node-status events and its onSend hook: no flow
 * has to change for it.
 */
import { substituteEnv, type FlowConfigNode } from './readiness';

export interface NodeStatusEvent {
  id: string;
  status?: { fill?: string; text?: string };
}

export interface SendEvent {
  msg: Record<string, unknown>;
  source: { id: string; node?: { type?: string } };
}

const rowsText = (n: number) => n.toLocaleString('en-US');

function tabLabels(flows: FlowConfigNode[]): Map<string, string> {
  const labels = new Map<string, string>();
  for (const n of flows) if (n.type === 'tab' && !n.disabled) labels.set(n.id, String(n.label ?? n.id));
  return labels;
}

/** What one tab does, in a few words, from its nodes and the settings they read. */
export function describeTab(tabId: string, flows: FlowConfigNode[], env: NodeJS.ProcessEnv): string {
  const byId = new Map(flows.map((n) => [n.id, n]));
  const nodes = flows.filter((n) => n.z === tabId && !n.d);
  const parts: string[] = [];
  const pollers = nodes.filter((n) => n.type === 'api-poller');
  const missingKeys = new Set<string>();
  for (const poller of pollers) {
    const endpoint = byId.get(String(poller.endpoint));
    const keyEnv = String(endpoint?.keyEnv ?? '');
    if (endpoint?.keyRequired && keyEnv && !env[keyEnv]) missingKeys.add(keyEnv);
  }
  if (missingKeys.size > 0) return `no ${[...missingKeys].join(', ')}, not polling`;
  for (const csv of nodes.filter((n) => n.type === 'csv-source'))
    parts.push(`reading ${substituteEnv(csv.path, env)}`);
  for (const poller of pollers) {
    const endpoint = byId.get(String(poller.endpoint));
    const base = substituteEnv(endpoint?.baseUrl, env);
    const every = Number(poller.intervalSeconds);
    parts.push(`polling ${base}${every > 0 ? ` every ${every} s` : ''}`);
  }
  const routes = nodes.filter((n) => n.type === 'http in');
  if (routes.length > 0)
    parts.push(
      `serving ${routes.map((r) => `${String(r.method).toUpperCase()} ${String(r.url)}`).join(', ')}`,
    );
  for (const broker of nodes.filter((n) => n.type === 'aedes-broker'))
    parts.push(
      `MQTT broker on ${substituteEnv(broker.bind, env) || '127.0.0.1'}:${substituteEnv(broker.port, env)}`,
    );
  return parts.length > 0 ? parts.join('; ') : 'no sources';
}

export class TabReport {
  private readonly labels: Map<string, string>;
  private readonly tabOf: Map<string, string>;
  private readonly nameOf: Map<string, string>;
  private readonly typeOf: Map<string, string>;
  private readonly lastFill = new Map<string, string>();
  private readonly reportedRuns = new Set<string>();

  constructor(
    private readonly flows: FlowConfigNode[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
  ) {
    this.labels = tabLabels(flows);
    this.tabOf = new Map(flows.filter((n) => n.z).map((n) => [n.id, String(n.z)]));
    this.nameOf = new Map(flows.map((n) => [n.id, String(n.name || n.type)]));
    this.typeOf = new Map(flows.map((n) => [n.id, n.type]));
  }

  /** One line per enabled tab. */
  summary(): string[] {
    return [...this.labels].map(([id, label]) => `  ${label}: ${describeTab(id, this.flows, this.env)}`);
  }

  private label(nodeId: string): string | undefined {
    const tab = this.tabOf.get(nodeId);
    return tab ? this.labels.get(tab) : undefined;
  }

  /** onSend: a csv-source's end-of-run report (its second output, topic "run"). */
  onSend(events: SendEvent[]): void {
    for (const { msg, source } of events) {
      if (source.node?.type !== 'csv-source' || msg.topic !== 'run' || !msg.complete) continue;
      const runKey = `${source.id}:${String(msg._msgid)}`;
      const label = this.label(source.id);
      if (this.reportedRuns.has(runKey) || !label) continue;
      this.reportedRuns.add(runKey);
      const payload = (msg.payload ?? {}) as { rows?: number; badRows?: number; files?: unknown[] };
      const files = payload.files?.length ?? 0;
      const bad = payload.badRows ? `, ${rowsText(payload.badRows)} bad rows skipped` : '';
      this.log(
        `${label}: ingested ${rowsText(payload.rows ?? 0)} rows from ${files} file${files === 1 ? '' : 's'}${bad}`,
      );
    }
  }

  /** node-status: a poller's status colour changing (first success, failing, recovered). */
  onStatus(event: NodeStatusEvent): void {
    if (this.typeOf.get(event.id) !== 'api-poller') return;
    const fill = event.status?.fill;
    if (fill !== 'green' && fill !== 'red') return;
    const before = this.lastFill.get(event.id);
    if (before === fill) return;
    this.lastFill.set(event.id, fill);
    const label = this.label(event.id);
    if (!label) return;
    const name = this.nameOf.get(event.id);
    if (fill === 'green') this.log(`${label}: ${name}: ${before ? 'polling again' : 'first poll ok'}`);
    else this.log(`${label}: ${name}: failing (${event.status?.text ?? 'error'}); see the log above`);
  }
}
