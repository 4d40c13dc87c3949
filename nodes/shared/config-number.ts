/** Parses a numeric editor setting, throwing an error that names the setting. */
export function configNumber(
  raw: unknown,
  name: string,
  fallback: number,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = `${Number.isFinite(min) ? ` ≥ ${min}` : ''}${Number.isFinite(max) ? ` ≤ ${max}` : ''}`;
    throw new Error(
      `setting ${name} = "${String(raw)}" must be a${integer ? 'n integer' : ' number'}${range}`,
    );
  }
  return n;
}
