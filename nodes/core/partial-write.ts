/**
 * Which lines of a batch InfluxDB refused, from its 400 answer. A partial write stores the
 * good lines and names only some of the bad ones: v1/v2 `unable to parse '<line>': why`
 * (each refused line quoted), `field type conflict: input field "f" on measurement "m" is
 * type string, already exists as type float dropped=N` (one conflict named, N counted),
 * v2 `errors encountered on line(s):\nline 2: ...`.
 */

export type FieldType = 'float' | 'integer' | 'unsigned' | 'string' | 'boolean';

export interface RefusedLines {
  /** The lines the answer names or that break the named field-type conflict. */
  refused: string[];
  /** The server's count of dropped lines (`dropped=N`), when it gives one. */
  dropped: number | undefined;
  /** The (measurement, field) with a type conflict: other lines may conflict on other fields. */
  typeConflict: boolean;
}

/** Whether a 400 answer means "some lines were stored" rather than "the batch was refused". */
export function isPartialWrite(message: string): boolean {
  return /partial write/i.test(message);
}

export function refusedLines(lines: string[], message: string): RefusedLines {
  const refused = new Set<string>();
  for (const m of message.matchAll(/unable to parse '((?:[^']|'(?!: ))*)': /g)) {
    if (lines.includes(m[1])) refused.add(m[1]);
  }
  for (const m of message.matchAll(/(?:^|\n|\s)line (\d+): /g)) {
    const line = lines[Number(m[1]) - 1];
    if (line !== undefined) refused.add(line);
  }
  const conflict =
    /input field "((?:[^"\\]|\\.)*)" on measurement "((?:[^"\\]|\\.)*)" is type (\w+), already exists as type (\w+)/.exec(
      message,
    );
  if (conflict) {
    const [, field, measurement, type] = conflict;
    for (const line of lines) {
      const parsed = parseLine(line);
      if (parsed?.measurement === measurement && parsed.fields.get(field) === type) refused.add(line);
    }
  }
  const dropped = /dropped=(\d+)/.exec(message);
  return {
    refused: lines.filter((l) => refused.has(l)),
    dropped: dropped ? Number(dropped[1]) : undefined,
    typeConflict: conflict !== null,
  };
}

/** Lines with a field whose type differs from the type the server holds for it. */
export function linesWithConflictingTypes(
  lines: string[],
  serverTypes: ReadonlyMap<string, ReadonlyMap<string, FieldType>>,
): string[] {
  return lines.filter((line) => {
    const parsed = parseLine(line);
    const known = parsed && serverTypes.get(parsed.measurement);
    if (!parsed || !known) return false;
    for (const [field, type] of parsed.fields) {
      const held = known.get(field);
      if (held !== undefined && held !== type) return true;
    }
    return false;
  });
}

/** The measurement and field types of one line of line protocol (undefined if malformed). */
export function parseLine(line: string): { measurement: string; fields: Map<string, FieldType> } | undefined {
  // Quotes are literal in the measurement and tags; only field values are quoted strings.
  const [head, rest] = splitUnescaped(line, ' ', false, 2);
  if (head === undefined || rest === undefined) return undefined;
  const [fieldSet] = splitUnescaped(rest, ' ', true, 2);
  const measurement = unescape(splitUnescaped(head, ',', false, 2)[0] ?? '', MEASUREMENT_ESCAPED);
  const fields = new Map<string, FieldType>();
  for (const pair of splitUnescaped(fieldSet ?? '', ',', true)) {
    const [key, value] = splitUnescaped(pair, '=', false, 2);
    if (key === undefined || value === undefined) return undefined;
    fields.set(unescape(key), fieldType(value));
  }
  return { measurement, fields };
}

function fieldType(value: string): FieldType {
  if (value.startsWith('"')) return 'string';
  if (/^(t|T|true|True|TRUE|f|F|false|False|FALSE)$/.test(value)) return 'boolean';
  if (/^-?\d+i$/.test(value)) return 'integer';
  if (/^\d+u$/.test(value)) return 'unsigned';
  return 'float';
}

/**
 * Splits at `separator` where it is not escaped with `\` and, with `quotedValues`, not
 * inside a string field value (a `"` right after `=` up to the next unescaped `"`).
 */
function splitUnescaped(text: string, separator: string, quotedValues: boolean, limit = Infinity): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  let afterEquals = false; // the previous character is an unescaped `=` (an escaped one is part of a key)
  for (let i = 0; i < text.length && parts.length < limit - 1; i++) {
    const c = text[i];
    if (c === '\\') {
      i++;
      afterEquals = false;
      continue;
    }
    if (quoted) quoted = c !== '"';
    else if (quotedValues && c === '"' && afterEquals) quoted = true;
    else if (c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    afterEquals = !quoted && c === '=';
  }
  parts.push(text.slice(start));
  return parts;
}

/** What a backslash escapes in a measurement (`=` is literal there) and in keys. */
const MEASUREMENT_ESCAPED = /\\([, \\])/g;
const KEY_ESCAPED = /\\([, =\\])/g;

function unescape(name: string, escaped = KEY_ESCAPED): string {
  return name.replace(escaped, '$1');
}
