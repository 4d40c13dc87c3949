import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  isPartialWrite,
  linesWithConflictingTypes,
  parseLine,
  refusedLines,
} from '../../nodes/core/partial-write';
import { LineBuilder } from '../../nodes/core/line-protocol';

describe('refusedLines: which lines a partial write refused, from the server answer', () => {
  const lines = ['m v=1 1', 'm v="x" 2', 'n,t=a v=true 3', 'm v=4i 4'];

  it('reads a v1/v2 field-type conflict: the named measurement, field and type', () => {
    const message =
      'partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1';
    assert.ok(isPartialWrite(message));
    assert.deepEqual(refusedLines(lines, message), {
      refused: ['m v="x" 2'],
      dropped: 1,
      typeConflict: true,
    });
    const wrapped = `failure writing points to database: ${message}`;
    assert.deepEqual(refusedLines(lines, wrapped).refused, ['m v="x" 2']);
  });

  it('reads `unable to parse` (v1) and `line N:` (v2) answers', () => {
    const parse =
      "partial write: unable to parse 'm v=\"x\" 2': invalid\nunable to parse 'm v=4i 4': bad dropped=0";
    assert.deepEqual(refusedLines(lines, parse).refused, ['m v="x" 2', 'm v=4i 4']);
    const v2 = 'partial write has occurred, errors encountered on line(s):\nline 3: no\nline 1: bad';
    assert.deepEqual(refusedLines(lines, v2).refused, ['m v=1 1', 'n,t=a v=true 3']);
  });

  it('is not a partial write when the whole batch was refused', () => {
    assert.equal(isPartialWrite('database not found: "x"'), false);
  });

  it('finds lines whose field types differ from the server types', () => {
    const server = new Map([['m', new Map([['v', 'float' as const]])]]);
    assert.deepEqual(linesWithConflictingTypes(lines, server), ['m v="x" 2', 'm v=4i 4']);
  });

  it('reads `\\=` in a measurement as written: `=` is not escaped there (found by the property below)', () => {
    const built = new LineBuilder('ms').line(
      { measurement: '\\=', fields: { '!': 0 }, timestamp: 1 },
      undefined,
      0,
    );
    assert.ok(built.ok);
    if (built.ok) assert.equal(parseLine(built.line)?.measurement, '\\=');
  });

  it('reads a field key ending in an escaped `=` before a `"` as a key, not as a string value (found by the property below)', () => {
    const built = new LineBuilder('ms').line(
      { measurement: '!', fields: { '="': false }, timestamp: 1 },
      undefined,
      0,
    );
    assert.ok(built.ok);
    if (built.ok) assert.deepEqual([...(parseLine(built.line)?.fields ?? [])], [['="', 'boolean']]);
  });

  it('reads back the measurement and field types of every line LineBuilder writes', () => {
    // Without backslashes: a backslash run before an escaped character is made even, which
    // two names can share (`\,` and `\\,`), so those names cannot all read back exactly.
    const name = fc
      .string({ minLength: 1, maxLength: 8 })
      .filter((s) => s.trim() === s && !s.includes('\n') && !s.includes('\\'));
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ v, type: 'float' })),
      fc.string({ maxLength: 8 }).map((v) => ({ v, type: 'string' })),
      fc.boolean().map((v) => ({ v, type: 'boolean' })),
      fc.integer().map((v) => ({ v: { int: v }, type: 'integer' })),
    );
    fc.assert(
      fc.property(name, name, value, (measurement, field, { v, type }) => {
        const built = new LineBuilder('ms').line(
          { measurement, fields: { [field]: v as never }, timestamp: 1 },
          undefined,
          0,
        );
        fc.pre(built.ok);
        if (!built.ok) return;
        const parsed = parseLine(built.line);
        assert.equal(parsed?.measurement, measurement);
        assert.equal(parsed?.fields.get(field), type);
      }),
    );
  });
});
