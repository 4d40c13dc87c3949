/**
 * InfluxQL text and rows: the one identifier quoter every query builder uses, and the one
 * reading of a result row's `time`. InfluxQL identifiers go in double quotes with `"` and
 * `\` escaped by a backslash (InfluxDB 1.x `influxql` scanner, `ScanString`).
 */

/** Longest time a Date can hold (±8.64e15 ms around the epoch). */
const DATE_LIMIT_MS = 8.64e15;

/** Any name as an InfluxQL identifier: `"name"` with `\` → `\\` and `"` → `\"`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A result row's `time` (epoch ms, ISO text or Date) as epoch ms; NaN when it is none of them. */
export function rowTimeMs(raw: unknown): number {
  const ms =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string'
        ? Date.parse(raw)
        : typeof (raw as { getTime?: unknown } | null)?.getTime === 'function'
          ? (raw as Date).getTime()
          : NaN;
  return Math.abs(ms) > DATE_LIMIT_MS ? NaN : ms;
}
