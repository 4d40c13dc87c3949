/**
 * Query parameters from msgs, bound safely (docs/adr/0025). Input never becomes query text:
 * - InfluxQL (v1): the query keeps `$name` placeholders and the values travel in InfluxDB's
 *   `params` JSON argument, which the server binds as literals.
 * - Flux (v2): a `params = {...}` record is put in front of the script, each value written by
 *   @influxdata/influxdb-client's Flux literal encoders (strings quoted and escaped, numbers
 *   checked), so the script reads `params.name`, the same syntax InfluxDB Cloud uses for its
 *   own parameterised queries; works on OSS 2.x too.
 */
import { fluxBool, fluxDateTime, fluxFloat, fluxInteger, fluxString } from '@influxdata/influxdb-client';

export type ParamValue = string | number | boolean | Date;
export type QueryParams = Record<string, ParamValue>;

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a msg's params object; returns the params or why not. */
export function readParams(raw: unknown): { ok: true; params: QueryParams } | { ok: false; reason: string } {
  if (raw === undefined || raw === null) return { ok: true, params: {} };
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, reason: 'msg.params must be an object' };
  const params: QueryParams = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!PARAM_NAME.test(name)) return { ok: false, reason: `parameter name "${name}" is not an identifier` };
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) return { ok: false, reason: `parameter ${name} is an invalid Date` };
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { ok: false, reason: `parameter ${name} is not a finite number` };
    } else if (typeof value !== 'string' && typeof value !== 'boolean') {
      return { ok: false, reason: `parameter ${name} must be a string, number, boolean or Date` };
    }
    params[name] = value as ParamValue;
  }
  return { ok: true, params };
}

/** The `$name` placeholders an InfluxQL query uses (outside quoted strings and identifiers). */
export function influxqlPlaceholders(query: string): string[] {
  const names = new Set<string>();
  let quote: string | undefined;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '$') {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i + 1));
      if (m) names.add(m[0]);
    }
  }
  return [...names];
}

/**
 * The `params` JSON for InfluxDB 1.x `/query`. Every placeholder needs a value (an unbound
 * `$name` would be a server error that reads as a bug in the flow); Dates become RFC 3339
 * strings, which InfluxQL compares with `time`.
 */
export function influxqlParams(
  query: string,
  params: QueryParams,
): { ok: true; json: string } | { ok: false; reason: string } {
  const missing = influxqlPlaceholders(query).filter((name) => !(name in params));
  if (missing.length > 0)
    return {
      ok: false,
      reason: `query uses ${missing.map((n) => '$' + n).join(', ')} but msg.params has no value for it`,
    };
  const bound: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(params))
    bound[name] = value instanceof Date ? value.toISOString() : value;
  return { ok: true, json: JSON.stringify(bound) };
}

/** One Flux literal for a parameter value. */
export function fluxLiteral(value: ParamValue): string {
  if (value instanceof Date) return fluxDateTime(value.toISOString()).toString();
  if (typeof value === 'boolean') return fluxBool(value).toString();
  if (typeof value === 'number')
    return Number.isSafeInteger(value) ? fluxInteger(value).toString() : fluxFloat(value).toString();
  return fluxString(value).toString();
}

/** The Flux script with a `params` record in front, or the script itself when there are none. */
export function fluxWithParams(script: string, params: QueryParams): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return script;
  const record = entries.map(([name, value]) => `${name}: ${fluxLiteral(value)}`).join(', ');
  return `params = {${record}}\n${script}`;
}
