/**
 * The byte paths of the CSV reader (pushBytes, mapBytes, plainDecimal, byte time parsers)
 * against the text paths they replace on files: same records, line numbers, bad rows,
 * numbers and instants, wherever the bytes are cut.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  CsvRecordReader,
  CsvRowMapper,
  csvNumber,
  parseCsvText,
  plainDecimal,
  type RowMapping,
} from '../../nodes/core/csv-parse';
import { compileTimeParsers, type TimeFormat } from '../../nodes/core/csv-timestamp';
import { compileTimeParser as referenceTimeParser } from './reference/csv-timestamp-text';

type Parsed = ReturnType<typeof parseCsvText>;

/** The text's UTF-8 bytes cut at `cuts` (anywhere, also inside a character), read with pushBytes. */
function parseBytes(
  text: string,
  cuts: number[],
  delimiter: string,
  quote: string,
  asBytes: boolean,
): Parsed {
  const out: Parsed = { records: [], bad: [] };
  const reader = new CsvRecordReader(
    { delimiter, quote },
    (fields, line) => out.records.push({ fields, line }),
    (line, reason) => out.bad.push({ line, reason }),
    asBytes
      ? (bytes, bounds, count, line) => {
          const fields: string[] = [];
          for (let f = 0; f < count; f++)
            fields.push(bytes.toString('utf8', bounds[2 * f], bounds[2 * f + 1]));
          out.records.push({ fields, line });
        }
      : undefined,
  );
  const bytes = Buffer.from(text, 'utf8');
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    reader.pushBytes(bytes.subarray(from, cut));
    from = cut;
  }
  reader.pushBytes(bytes.subarray(from));
  reader.end();
  return out;
}

const csvText = (delimiter: string, quote: string) =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(delimiter, '\n', '\r\n', '\r', 'a', '1', ' ', 'é', '€', '😀', '.', ','),
        quote === '' ? fc.constant('b') : fc.constantFrom(quote, `${quote}${quote}`),
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join(''));

describe('csv-parse byte path', () => {
  for (const [delimiter, quote] of [
    [',', '"'],
    [';', "'"],
    ['\t', ''],
    ['§', '"'],
  ]) {
    it(`reads bytes cut anywhere as the text reader reads the text (delimiter ${JSON.stringify(delimiter)}, quote ${JSON.stringify(quote)})`, () => {
      fc.assert(
        fc.property(
          csvText(delimiter, quote),
          fc.array(fc.nat(), { maxLength: 6 }),
          fc.boolean(),
          (text, cuts, asBytes) => {
            assert.deepEqual(
              parseBytes(text, cuts, delimiter, quote, asBytes),
              parseCsvText(text, { delimiter, quote }),
            );
          },
        ),
        { numRuns: 400 },
      );
    });
  }

  it('reads a plain decimal as csvNumber does, and leaves every other text to csvNumber', () => {
    const numeric = fc.oneof(
      fc.double({ noNaN: true }).map(String),
      fc.integer().map(String),
      fc
        .array(fc.constantFrom('0', '1', '5', '9', '.', ',', '-', '+', 'e', ' ', 'x'), { maxLength: 20 })
        .map((a) => a.join('')),
      fc
        .tuple(fc.stringMatching(/^-?\d{0,16}$/), fc.stringMatching(/^\d{0,16}$/), fc.constantFrom('.', ','))
        .map(([a, b, sep]) => `${a}${sep}${b}`),
    );
    fc.assert(
      fc.property(numeric, fc.boolean(), (text, decimalComma) => {
        const bytes = Buffer.from(`;${text};`);
        const fast = plainDecimal(bytes, 1, bytes.length - 1, decimalComma);
        if (fast !== undefined) assert.ok(Object.is(fast, csvNumber(text, decimalComma)), `${text}: ${fast}`);
      }),
      { numRuns: 5000 },
    );
    // the fast path does take the common shapes
    assert.equal(plainDecimal(Buffer.from('49,99'), 0, 5, true), 49.99);
    assert.ok(Object.is(plainDecimal(Buffer.from('-0'), 0, 2, false), -0));
    assert.equal(plainDecimal(Buffer.from('0.1'), 0, 3, false), 0.1);
  });

  it('maps byte records to the same points and reasons as text records', () => {
    const mappings: RowMapping[] = [
      {
        columns: ['time', 'hz'],
        timeColumn: 'time',
        timeFormat: 'swissgrid',
        timeZone: 'Europe/Zurich',
        decimalComma: true,
        output: 'points',
        measurement: 'f',
        constantTags: { series: 'x' },
      },
      {
        columns: ['time', 'id', 'a', 'b'],
        timeColumn: 'time',
        timeFormat: 'auto',
        output: 'points',
        measurement: 't',
        tagColumns: ['id'],
      },
      { columns: ['time', 'id', 'a', 'b'], timeColumn: 'time', numberColumns: ['a'], output: 'rows' },
    ];
    const value = fc.oneof(
      fc.constantFrom('', '1', '-2.5', '49,99', '1e3', 'x', ' 7 ', '2021-05-01 00:00:00', '1620000000', 'ü'),
      fc.constantFrom(
        'Sa. 01.05.21 00:00:30',
        'So. 28.03.21 02:30:00',
        'So. 31.10.21 02:30:00',
        'Mo. 01.05.21 00:00:30',
      ),
      fc.double({ noNaN: true }).map(String),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...mappings.keys()),
        fc.array(fc.array(value, { minLength: 1, maxLength: 5 }), { maxLength: 20 }),
        (m, rows) => {
          const text = new CsvRowMapper(mappings[m]);
          const bytes = new CsvRowMapper(mappings[m]);
          for (const fields of rows) {
            const line = Buffer.from(fields.join(';'));
            const bounds = new Int32Array(2 * fields.length);
            let at = 0;
            fields.forEach((f, i) => {
              bounds[2 * i] = at;
              at += Buffer.byteLength(f);
              bounds[2 * i + 1] = at;
              at++;
            });
            assert.deepEqual(bytes.mapBytes(line, bounds, fields.length), text.map(fields));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('csv-timestamp byte parsers', () => {
  const zones = ['UTC', 'Europe/Zurich'];
  /** Texts near each format: valid ones with random fields, and with a random character changed. */
  const nearTime = fc
    .tuple(
      fc.integer({ min: 1968, max: 2040 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 60 }),
      fc.constantFrom('So', 'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa', 'xx'),
      fc.constantFrom('', 'Z', '+01:00', '-0530', '.5', '.1234567', ',25', 'z', '+1'),
    )
    .map(([y, mo, d, h, mi, s, wd, tail]) => {
      const p = (n: number) => String(n).padStart(2, '0');
      return [
        `${y}-${p(mo)}-${p(d)} ${p(h)}:${p(mi)}:${p(s)}${tail}`,
        `${y}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}${tail}`,
        `${y}-${p(mo)}-${p(d)}`,
        `${wd}. ${p(d)}.${p(mo)}.${p(y % 100)} ${p(h)}:${p(mi)}:${p(s)}`,
        `${wd}. ${p(d)}.${p(mo)}.${y} ${p(h)}:${p(mi)}`,
      ];
    });
  const mutated = fc
    .tuple(nearTime, fc.nat(4), fc.nat(40), fc.constantFrom('', ' ', '9', ':', '.', '-', 'é', 'T', '0'))
    .map(([texts, which, at, c]) => {
      const t = texts[which];
      const i = at % (t.length + 1);
      return `${t.slice(0, i)}${c}${t.slice(i + 1)}`;
    });
  const sequence = fc.array(
    fc.oneof(
      nearTime.chain((t) => fc.constantFrom(...t)),
      mutated,
      fc.string({ maxLength: 12 }),
    ),
    {
      maxLength: 30,
    },
  );

  for (const format of ['iso', 'datetime', 'swissgrid', 'auto'] as TimeFormat[]) {
    it(`${format}: text and byte parsers read each sequence as the text parser before them did`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...zones),
          sequence,
          fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
          (zone, texts, useBytes) => {
            const reference = referenceTimeParser(format, zone);
            const parsers = compileTimeParsers(format, zone);
            texts.forEach((text, i) => {
              const bytes = Buffer.from(`,${text},`);
              const got =
                useBytes[i] && parsers.bytes ? parsers.bytes(bytes, 1, bytes.length - 1) : parsers.text(text);
              assert.ok(Object.is(got, reference(text)), `${format} ${zone} ${JSON.stringify(text)}: ${got}`);
            });
          },
        ),
        { numRuns: 1500 },
      );
    });
  }
});
