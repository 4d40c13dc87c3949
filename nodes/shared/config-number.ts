/** Where `parseAllSettings` collects the problems of the parse it runs; unset outside one. */
let collected: string[] | undefined;

/**
 * Parses a numeric editor setting. A bad value throws an error that names the setting —
 * or, inside `parseAllSettings`, is recorded and the fallback returned so that the
 * remaining settings are still checked.
 */
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
    const problem = `setting ${name} = "${String(raw)}" must be ${integer ? 'an integer' : 'a number'}${range}`;
    if (!collected) throw new Error(problem);
    collected.push(problem);
    return fallback;
  }
  return n;
}

/**
 * Runs a node's settings parser and reports every bad setting at once, in one error
 * ("setting a ...; setting b ..."), instead of only the first one per deploy.
 */
export function parseAllSettings<T>(parse: () => T): T {
  const outer = collected;
  const problems: string[] = [];
  collected = problems;
  let result: T | undefined;
  try {
    result = parse();
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  } finally {
    collected = outer;
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return result as T;
}
