import assert from 'node:assert/strict';
import fc from 'fast-check';
import { quoteIdentifier, rowTimeMs } from '../../nodes/core/influxql';

/** Character by character, the way InfluxQL's scanner reads a quoted identifier back. */
function naiveQuote(name: string): string {
  let out = '"';
  for (const c of name) out += c === '"' || c === '\\' ? `\\${c}` : c;
  return `${out}"`;
}

/** The identifier inside a quoted one, or undefined when the quoting is broken. */
function unquote(quoted: string): string | undefined {
  if (quoted.length < 2 || !quoted.startsWith('"') || !quoted.endsWith('"')) return undefined;
  let name = '';
  for (let i = 1; i < quoted.length - 1; i++) {
    const c = quoted[i];
    if (c === '"') return undefined; // an unescaped quote ends the identifier early
    if (c === '\\') {
      const next = quoted[++i];
      if (next !== '"' && next !== '\\') return undefined;
      name += next;
    } else name += c;
  }
  return name;
}

describe('influxql (core)', () => {
  describe('quoteIdentifier', () => {
    it('double-quotes and backslash-escapes " and \\', () => {
      assert.equal(quoteIdentifier('hz'), '"hz"');
      assert.equal(quoteIdentifier('odd, measurement = "x"'), '"odd, measurement = \\"x\\""');
      assert.equal(quoteIdentifier('a\\b'), '"a\\\\b"');
      assert.equal(quoteIdentifier('\\"'), '"\\\\\\""');
      assert.equal(quoteIdentifier(''), '""');
    });

    it('agrees with a character-by-character reference on any string', () => {
      const names = fc.oneof(
        fc.string(),
        fc.string({ unit: fc.constantFrom('"', '\\', 'a', ' ', "'", ',', '=') }),
      );
      fc.assert(fc.property(names, (name) => quoteIdentifier(name) === naiveQuote(name)));
    });

    it('reads back as the same name: no input ends the identifier early', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme' }), (name) => unquote(quoteIdentifier(name)) === name),
      );
    });
  });

  describe('rowTimeMs', () => {
    it('reads epoch ms, ISO text and Dates', () => {
      assert.equal(rowTimeMs(1_600_000_000_000), 1_600_000_000_000);
      assert.equal(rowTimeMs('2021-05-01T00:00:00Z'), Date.UTC(2021, 4, 1));
      assert.equal(rowTimeMs(new Date(Date.UTC(2021, 4, 1))), Date.UTC(2021, 4, 1));
    });

    it('is NaN for anything else and beyond what a Date holds', () => {
      for (const raw of [undefined, null, {}, 'soon', true, 8.64e15 + 1, -8.64e15 - 1]) {
        assert.ok(Number.isNaN(rowTimeMs(raw)), String(raw));
      }
    });
  });
});
