/**
 * How far series-rollup has written each series it is ingesting, for series-request in the
 * same runtime: rollup buckets past a series' watermark are still open, so answers read
 * those times from finer levels or the raw points (docs/adr/0090). A series not listed
 * (never seen, or flushed) has complete rollups.
 */
const watermarks = new Map<string, number>();

function key(measurement: string, series: string): string {
  return `${measurement}\n${series}`;
}

export function setRollupWatermark(measurement: string, series: string, watermarkMs: number): void {
  watermarks.set(key(measurement, series), watermarkMs);
}

export function clearRollupWatermark(measurement: string, series: string): void {
  watermarks.delete(key(measurement, series));
}

export function rollupWatermark(measurement: string, series: string): number | undefined {
  return watermarks.get(key(measurement, series));
}
