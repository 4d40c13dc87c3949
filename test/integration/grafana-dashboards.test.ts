/**
 * The provisioned Grafana dashboards, checked as Grafana would run them: every panel's
 * InfluxQL, with `$timeFilter`, `$__interval` and the dashboard's template variables
 * filled in the way Grafana fills them, runs against a real InfluxDB holding the
 * measurements of the design's schema, and returns rows.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LineBuilder, type Point } from '../../nodes/core/line-protocol';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';

const repoRoot = resolve(__dirname, '..', '..', '..');
const dashboardsDir = join(repoRoot, 'grafana', 'dashboards');
const datasourceFile = join(repoRoot, 'grafana', 'provisioning', 'datasources', 'influxdb.yml');
const flowsDir = join(repoRoot, 'flows');

interface Target {
  refId: string;
  query: string;
  rawQuery?: boolean;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  interval?: string;
  repeat?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  current?: { value?: string | string[] };
  datasource?: { uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: Variable[] };
}

/** The InfluxDB schema of the design (measurement → tags, fields). */
const DESIGN_SCHEMA: Record<string, { tags: string[]; fields: string[] }> = {
  power_system: { tags: ['source'], fields: [] /* one float field per API field */ },
  power_system_avg5m: { tags: ['field'], fields: ['mean', 'min', 'max', 'count'] },
  forecast: { tags: ['series', 'model'], fields: ['value', 'actual', 'abs_error'] },
  turbine_power: {
    tags: ['turbine_id'],
    fields: ['power_output', 'wind_speed', 'wind_direction', 'imputed'],
  },
  turbine_daily_stats: {
    tags: ['turbine_id'],
    fields: ['min', 'max', 'mean', 'count', 'stdev', 'missing', 'imputed', 'outliers'],
  },
  turbine_anomaly: { tags: ['turbine_id'], fields: ['mean', 'fleet_mean', 'fleet_stdev', 'z'] },
  grid_frequency: { tags: ['series'], fields: ['hz'] },
  carbon_footprint: {
    tags: ['asset_id'],
    fields: ['half_hour_id', 'mean_kw', 'energy_kwh', 'intensity', 'footprint_g'],
  },
  rain_next_hour: { tags: ['lat', 'lon', 'name'], fields: ['mm'] },
  stream_window: { tags: ['stream', 'key'], fields: ['mean', 'min', 'max', 'count'] },
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Stand-in for the shipped flows' output: a few points of every measurement in the design
 * schema, shaped as the flows write them (tags and fields per the schema, float numbers,
 * through the same line-protocol builder influx-write uses). To check the dashboards
 * against what the real flows wrote instead, replace the call to this in `before` with a
 * run of the flows against the same InfluxDB.
 */
export function schemaSamplePoints(startMs = Date.UTC(2024, 6, 5)): Point[] {
  const points: Point[] = [];
  const gridFields = ['CO2Emission', 'OnshoreWindPower', 'SolarPower'];
  for (let m = 0; m < 30; m++) {
    const t = startMs + m * MINUTE;
    points.push({
      measurement: 'power_system',
      tags: { source: 'PowerSystemRightNow' },
      fields: { CO2Emission: 100 + m, OnshoreWindPower: 800 + 3 * m, SolarPower: m % 5 },
      timestamp: t,
    });
    if (m >= 5)
      for (const field of gridFields)
        points.push({
          measurement: 'power_system_avg5m',
          tags: { field },
          fields: { mean: 100 + m - 2, min: 100 + m - 4, max: 100 + m, count: 5 },
          timestamp: t,
        });
    if (m >= 6)
      for (const field of gridFields)
        points.push({
          measurement: 'forecast',
          tags: { series: field, model: 'holt-winters' },
          fields: { value: 100 + m + 0.5, actual: 100 + m, abs_error: 0.5 },
          timestamp: t,
        });
  }
  for (let h = 0; h < 24; h++)
    points.push({
      measurement: 'forecast',
      tags: { series: 'temperature', model: 'holt-winters' },
      fields: { value: 14 + h / 4, actual: 14.2 + h / 4, abs_error: 0.2 },
      timestamp: startMs + h * HOUR,
    });
  const turbines = ['1', '2', '3'];
  for (let day = 0; day < 2; day++) {
    const dayStart = startMs + day * DAY;
    for (const [i, turbine_id] of turbines.entries()) {
      for (let h = 0; h < 24; h += 6)
        points.push({
          measurement: 'turbine_power',
          tags: { turbine_id },
          fields: {
            power_output: 2 + i + h / 24,
            wind_speed: 10 + h / 6,
            wind_direction: 180,
            imputed: false,
          },
          timestamp: dayStart + h * HOUR,
        });
      points.push({
        measurement: 'turbine_daily_stats',
        tags: { turbine_id },
        fields: {
          min: 1.5,
          max: 4.5,
          mean: 2 + i,
          count: 24,
          stdev: 0.7,
          missing: 1,
          imputed: 1,
          outliers: 0,
        },
        timestamp: dayStart,
      });
    }
    points.push({
      measurement: 'turbine_anomaly',
      tags: { turbine_id: '3' },
      fields: { mean: 4, fleet_mean: 3, fleet_stdev: 0.45, z: 2.22 },
      timestamp: dayStart,
    });
  }
  for (let s = 0; s < 120; s++)
    points.push({
      measurement: 'grid_frequency',
      tags: { series: 'sollfrequenz-sample' },
      fields: { hz: s % 40 === 0 ? 49.99 : 50 },
      timestamp: startMs + s * 30_000,
    });
  for (let id = 29; id <= 40; id++)
    points.push({
      measurement: 'carbon_footprint',
      tags: { asset_id: 'abc123xyz' },
      fields: {
        half_hour_id: id,
        mean_kw: 1500,
        energy_kwh: 750,
        intensity: 200 + id,
        footprint_g: 750 * (200 + id),
      },
      timestamp: startMs + (id - 1) * 30 * MINUTE,
    });
  for (const [name, lat, lon] of [
    ['Sensorfact Utrecht', '52.0845', '5.1155'],
    ['Amsterdam', '52.3676', '4.9041'],
  ])
    for (let m = 0; m < 60; m += 10)
      points.push({
        measurement: 'rain_next_hour',
        tags: { lat, lon, name },
        fields: { mm: m / 20 },
        timestamp: startMs + m * MINUTE,
      });
  for (let m = 5; m < 30; m++)
    for (const key of ['m001', 'm002'])
      points.push({
        measurement: 'stream_window',
        tags: { stream: 'load', key },
        fields: { mean: 10 + m, min: 8 + m, max: 12 + m, count: 300 },
        timestamp: startMs + m * MINUTE,
      });
  return points;
}

/** Throws unless every point uses only the tags and fields the design gives its measurement. */
function assertDesignSchema(points: Point[]): void {
  for (const p of points) {
    const schema = DESIGN_SCHEMA[p.measurement ?? ''];
    assert.ok(schema, `measurement ${p.measurement} is not in the design schema`);
    for (const tag of Object.keys(p.tags ?? {}))
      assert.ok(schema.tags.includes(tag), `${p.measurement} has no tag ${tag} in the design`);
    if (schema.fields.length > 0)
      for (const field of Object.keys(p.fields))
        assert.ok(schema.fields.includes(field), `${p.measurement} has no field ${field} in the design`);
  }
}

async function writePoints(influx: TestInfluxd, points: Point[], database = 'gridflow'): Promise<void> {
  assertDesignSchema(points);
  const builder = new LineBuilder('ms');
  const lines = points.map((p) => {
    const result = builder.line(p, undefined, Date.now());
    if (!result.ok) throw new Error(result.reason);
    return result.line;
  });
  const res = await fetch(`${influx.url}/write?db=${database}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  assert.equal(res.status, 204, await res.text());
}

function readDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard,
    }));
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

function measurementsIn(query: string): string[] {
  return [...query.matchAll(/\bFROM\s+"?([A-Za-z0-9_]+)"?/gi)].map((m) => m[1]);
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a Grafana interval`);
  return Number(m[1]) * DURATION_MS[m[2]];
}

/** Grafana's `$__interval`: range / max data points, rounded up to a "nice" step, at least the minimum. */
function grafanaInterval(rangeMs: number, minIntervalMs: number, maxDataPoints = 1000): string {
  const nice = ['10ms', '50ms', '100ms', '500ms', '1s', '5s', '10s', '15s', '30s', '1m', '5m', '10m'];
  nice.push('15m', '30m', '1h', '3h', '6h', '12h', '1d', '7d', '30d');
  const wanted = Math.max(rangeMs / maxDataPoints, minIntervalMs);
  return nice.find((n) => durationMs(n) >= wanted) ?? '30d';
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** Values a variable can take: from its InfluxQL (query variables) or its option list. */
async function variableValues(influx: TestInfluxd, v: Variable): Promise<string[]> {
  if (v.type === 'query') {
    const rows = await influx.query(v.query);
    return rows.map((r) => String(r.value ?? Object.values(r)[0]));
  }
  return v.query
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What Grafana's InfluxDB data source puts in place of `$name` for the current selection. */
function formatVariable(v: Variable, values: string[], chosen?: string): string {
  if (chosen !== undefined) return chosen;
  const current = ([] as string[]).concat(v.current?.value ?? []);
  const isAll = current.includes('$__all');
  if (isAll && v.allValue !== undefined) return v.allValue;
  const selected = isAll ? values : current;
  if (!v.multi && !v.includeAll) return selected[0];
  return `(${selected.map(escapeRegex).join('|')})`;
}

function fillQuery(
  query: string,
  macros: { timeFilter: string; interval: string; intervalMs: number },
  variables: Map<string, string>,
): string {
  let q = query
    .replaceAll('$timeFilter', macros.timeFilter)
    .replaceAll('$__interval_ms', String(macros.intervalMs))
    .replaceAll('${__interval}', macros.interval)
    .replaceAll('$__interval', macros.interval)
    .replace(/\$interval\b/g, macros.interval);
  for (const [name, value] of [...variables].sort((a, b) => b[0].length - a[0].length))
    q = q.replaceAll(`\${${name}}`, value).replaceAll(`[[${name}]]`, value).replaceAll(`$${name}`, value);
  return q;
}

describe('Grafana dashboards (grafana/dashboards) against a real InfluxDB', function () {
  this.timeout(60_000);
  let influx: TestInfluxd;
  const dashboards = readDashboards();
  const datasource = (
    parseYaml(readFileSync(datasourceFile, 'utf8')) as {
      datasources: { uid: string; type: string; jsonData: { version?: string; timeInterval?: string } }[];
    }
  ).datasources[0];

  before(async () => {
    influx = await startTestInfluxd('gridflow');
    await writePoints(influx, schemaSamplePoints());
  });
  after(async () => influx?.dispose());

  it('provisions one InfluxQL data source that every panel and variable uses', () => {
    assert.equal(datasource.type, 'influxdb');
    assert.equal(datasource.jsonData.version, 'InfluxQL');
    assert.ok(dashboards.length > 0, 'no dashboards in grafana/dashboards');
    for (const { file, dashboard } of dashboards) {
      for (const panel of allPanels(dashboard.panels)) {
        for (const target of panel.targets ?? []) {
          const uid = target.datasource?.uid ?? panel.datasource?.uid;
          assert.equal(
            uid,
            datasource.uid,
            `${file} "${panel.title}" ${target.refId} uses data source ${uid}`,
          );
          assert.equal(target.rawQuery, true, `${file} "${panel.title}" ${target.refId} is not raw InfluxQL`);
          assert.match(target.query, /\$timeFilter/, `${file} "${panel.title}" ignores the time picker`);
        }
      }
      for (const v of dashboard.templating?.list ?? [])
        if (v.type === 'query') assert.equal(v.datasource?.uid, datasource.uid, `${file} variable ${v.name}`);
    }
  });

  it('has a dashboard for every shipped tab that writes to InfluxDB, and a tab for every dashboard', () => {
    const flowFiles = readdirSync(flowsDir).filter((f) => f.endsWith('.json'));
    const writing = flowFiles
      .filter((f) =>
        (JSON.parse(readFileSync(join(flowsDir, f), 'utf8')) as { type: string }[]).some(
          (n) => n.type === 'influx-write',
        ),
      )
      .map((f) => f.replace(/\.json$/, ''));
    const names = dashboards.map((d) => d.file.replace(/\.json$/, ''));
    for (const tab of writing)
      assert.ok(names.includes(tab), `flows/${tab}.json writes InfluxDB but has no dashboard`);
    for (const name of names)
      assert.ok(
        flowFiles.includes(`${name}.json`),
        `grafana/dashboards/${name}.json has no flows/${name}.json`,
      );
    for (const { file, dashboard } of dashboards)
      assert.equal(dashboard.uid, `gridflow-${file.replace(/\.json$/, '')}`, `${file} uid`);
  });

  it('shows every measurement of the design schema on some dashboard', () => {
    const shown = new Set(
      dashboards.flatMap(({ dashboard }) =>
        allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).flatMap((t) => measurementsIn(t.query))),
      ),
    );
    for (const measurement of Object.keys(DESIGN_SCHEMA))
      assert.ok(shown.has(measurement), `no panel shows ${measurement}`);
    for (const measurement of shown)
      assert.ok(
        measurement in DESIGN_SCHEMA,
        `a panel reads ${measurement}, which is not in the design schema`,
      );
  });

  for (const { file, dashboard } of dashboards) {
    it(`${file}: every panel query returns rows for the time range of the data`, async () => {
      const queries = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => t.query));
      const measurements = [...new Set(queries.flatMap(measurementsIn))];
      const from = regexOf(measurements);
      const first = await influx.query(`SELECT * FROM ${from} ORDER BY time ASC LIMIT 1`);
      const last = await influx.query(`SELECT * FROM ${from} ORDER BY time DESC LIMIT 1`);
      assert.ok(first.length > 0, `${file}: no data in ${measurements.join(', ')}`);
      const fromMs = Math.min(...first.map((r) => Number(r.time)));
      const toMs = Math.max(...last.map((r) => Number(r.time)));
      const timeFilter = `time >= ${fromMs}ms and time <= ${toMs}ms`;

      const variables = dashboard.templating?.list ?? [];
      const valuesOf = new Map<string, string[]>();
      for (const v of variables) {
        const values = await variableValues(influx, v);
        assert.ok(values.length > 0, `${file}: variable $${v.name} (${v.query}) has no values`);
        valuesOf.set(v.name, values);
      }
      const failures: string[] = [];
      let ran = 0;
      for (const panel of allPanels(dashboard.panels)) {
        const repeatValues = panel.repeat ? valuesOf.get(panel.repeat) : [undefined];
        assert.ok(repeatValues, `${file} "${panel.title}" repeats over unknown variable ${panel.repeat}`);
        for (const repeatValue of repeatValues) {
          const filled = new Map(
            variables.map((v) => [
              v.name,
              formatVariable(v, valuesOf.get(v.name)!, v.name === panel.repeat ? repeatValue : undefined),
            ]),
          );
          const minMs = Math.max(
            durationMs(datasource.jsonData.timeInterval ?? '1ms'),
            panel.interval ? durationMs(panel.interval) : 0,
          );
          const interval = grafanaInterval(toMs - fromMs, minMs);
          for (const target of panel.targets ?? []) {
            const q = fillQuery(
              target.query,
              { timeFilter, interval, intervalMs: durationMs(interval) },
              filled,
            );
            assert.doesNotMatch(q, /\$\w|\[\[/, `${file} "${panel.title}": unfilled variable in ${q}`);
            ran++;
            try {
              const rows = await influx.query(q);
              if (rows.length === 0) failures.push(`"${panel.title}" ${target.refId}: no rows for ${q}`);
            } catch (err) {
              failures.push(`"${panel.title}" ${target.refId}: ${(err as Error).message} in ${q}`);
            }
          }
        }
      }
      assert.ok(ran > 0, `${file} has no queries`);
      assert.deepEqual(failures, [], `${file}:\n${failures.join('\n')}`);
    });
  }
});

function regexOf(measurements: string[]): string {
  return `/^(${measurements.map(escapeRegex).join('|')})$/`;
}
