/**
 * Poll targets and their URLs: a target is a flat record (`{name, lat, lon}`) that a
 * template such as `/data/3.0/onecall?lat={{lat}}&lon={{lon}}` turns into a URL. Also
 * the secret hygiene every message about a URL needs (redaction).
 */
export type Target = Record<string, string | number>;

/** Targets from CSV text with a header line (`name,lat,lon`); blank lines and `#` comments skipped. */
export function parseTargetsCsv(text: string): Target[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (lines.length === 0) return [];
  const header = splitCsvLine(lines[0]).map((h) => h.trim());
  return lines.slice(1).map((line, i) => {
    const cells = splitCsvLine(line);
    if (cells.length !== header.length)
      throw new Error(`targets CSV line ${i + 2} has ${cells.length} cells, the header has ${header.length}`);
    return Object.fromEntries(header.map((h, j) => [h, cells[j].trim()]));
  });
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/**
 * Targets from a JSON value: an array of objects (`[{"lat":52.1,"lon":5.1}]`), of
 * `[lat, lon]` pairs, or of strings (each becomes `{value}`, usable as `{{value}}`).
 */
export function parseTargetsList(value: unknown): Target[] {
  const list = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(list))
    throw new Error('targets must be a JSON array (of objects, [lat, lon] pairs or strings)');
  return list.map((item, i) => {
    if (Array.isArray(item) && item.length === 2) return { lat: toCell(item[0], i), lon: toCell(item[1], i) };
    if (typeof item === 'string' || typeof item === 'number') return { value: item };
    if (item && typeof item === 'object') {
      const out: Target = {};
      for (const [k, v] of Object.entries(item)) out[k] = toCell(v, i);
      return out;
    }
    throw new Error(`target ${i} is ${item === null ? 'null' : typeof item}, not an object, pair or string`);
  });
}

function toCell(v: unknown, i: number): string | number {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return String(v);
  throw new Error(
    `target ${i} has a ${v === null ? 'null' : typeof v} value; only strings and numbers fit in a URL`,
  );
}

/** `{{name}}` placeholders filled (URL-encoded) from the target; a missing name is an error. */
export function fillTemplate(template: string, target: Target): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_m, name: string) => {
    const v = target[name];
    if (v === undefined)
      throw new Error(
        `the URL template needs "${name}" but the target has only ${Object.keys(target).join(', ') || 'nothing'}`,
      );
    return encodeURIComponent(String(v));
  });
}

/** Base URL + path (a full URL in `path` wins). */
export function joinUrl(baseUrl: string, path: string): string {
  if (/^https?:\/\//i.test(path)) return path;
  if (!baseUrl) return path;
  if (!path) return baseUrl;
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** A URL with `name=secret` added (query) — the caller must redact it before showing it anywhere. */
export function withQueryParam(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.toString();
}

/** Text with every occurrence of the secrets (raw and URL-encoded) replaced by ***. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 3) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}

/** `${NAME}` references replaced by `lookup(NAME)`; unset names are collected, not guessed. */
export function expandEnv(
  text: string,
  lookup: (name: string) => string | undefined,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  const out = text.replace(/\$\{(\w+)\}/g, (_m, name: string) => {
    const v = lookup(name);
    if (v === undefined || v === '') {
      missing.push(name);
      return '';
    }
    return v;
  });
  return { text: out, missing };
}

/** A key for per-target state (dedupe mark) that never contains a secret: the filled path. */
export function targetKey(template: string, target: Target): string {
  return fillTemplate(template, target);
}
