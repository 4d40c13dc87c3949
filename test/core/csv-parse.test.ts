import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CsvRecordReader, CsvRowMapper, csvNumber, nameList, parseCsvText } from '../../nodes/core/csv-parse';

const ROOT = join(__dirname, '..', '..', '..');
const WINDMILL = join(ROOT, 'data', 'windmill');
const VARIANTS = join(ROOT, 'test', 'fixtures', 'windmill');

/** Naive reference: the whole text at once, character by character (RFC 4180). */
function naiveParse(text: string, delimiter = ',', quote = '"'): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === quote && text[i + 1] === quote) {
        field += quote;
        i++;
      } else if (c === quote) inQuotes = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === quote) {
      inQuotes = true;
      any = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      any = true;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      fields.push(field);
      if (any || fields.length > 1 || fields[0] !== '') out.push({ fields, line: recordLine });
      fields = [];
      field = '';
      any = false;
      line++;
      recordLine = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || field !== '' || fields.length > 0) {
    fields.push(field);
    out.push({ fields, line: recordLine });
  }
  return out;
}

function parseInChunks(text: string, cuts: number[], delimiter = ','): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  const reader = new CsvRecordReader({ delimiter }, (fields, line) => records.push({ fields, line }));
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    reader.push(text.slice(at, cut));
    at = cut;
  }
  reader.push(text.slice(at));
  reader.end();
  return records;
}

describe('csv-parse', () => {
  it('reads the real turbine file into 3,721 records with 5 fields, the header on line 1', () => {
    const text = readFileSync(join(WINDMILL, 'data_group_1.csv'), 'utf8');
    const { records, bad } = parseCsvText(text);
    assert.equal(records.length, 3721);
    assert.equal(bad.length, 0);
    assert.deepEqual(records[0], {
      fields: ['timestamp', 'turbine_id', 'wind_speed', 'wind_direction', 'power_output'],
      line: 1,
    });
    assert.deepEqual(records[1], { fields: ['2022-03-01 00:00:00', '1', '11.8', '169', '2.7'], line: 2 });
    assert.deepEqual(records, naiveParse(text));
  });

  it('reads CRLF files the same as LF files (the edited variant is CRLF)', () => {
    const crlf = readFileSync(
      join(VARIANTS, 'nichoc93_wind-turbine-data_modified', 'data_group_1.csv'),
      'utf8',
    );
    assert.ok(crlf.includes('\r\n'));
    const { records } = parseCsvText(crlf);
    assert.deepEqual(records, parseCsvText(crlf.replace(/\r\n/g, '\n')).records);
    assert.ok(records.every((r) => r.fields.every((f) => !f.includes('\r'))));
  });

  it('gives the same records wherever the text is cut into chunks (real file, CRLF and quoted text)', () => {
    const real = readFileSync(
      join(VARIANTS, 'nichoc93_wind-turbine-data_modified', 'data_group_2.csv'),
      'utf8',
    ).slice(0, 3000);
    const quoted = 'a,b,c\r\n"x, y","he said ""hi""",3\n"multi\nline",,"\r\n"\n4,5,6';
    for (const text of [real, quoted]) {
      const expected = naiveParse(text);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 12 }), (cuts) => {
          assert.deepEqual(parseInChunks(text, cuts), expected);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('matches a naive parser on random quoted CSV cut at random places', () => {
    const cell = fc.oneof(
      fc.stringMatching(/^[a-z0-9 .]{0,5}$/),
      fc.stringMatching(/^[a-z,"\n]{0,6}$/).map((s) => `"${s.replace(/"/g, '""')}"`),
    );
    const text = fc
      .array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 })
      .chain((rows) =>
        fc.constantFrom('\n', '\r\n').map((eol) => rows.map((r) => r.join(',')).join(eol) + eol),
      );
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 6 }), (t, rawCuts) => {
        const cuts = rawCuts.map((c) => c % (t.length + 1));
        assert.deepEqual(parseInChunks(t, cuts), naiveParse(t));
      }),
      { numRuns: 500 },
    );
  });

  it('counts physical lines: blank lines and line breaks inside quotes move the line number on', () => {
    const { records } = parseCsvText('h1,h2\n\n"a\nb",1\nc,2\n');
    assert.deepEqual(
      records.map((r) => r.line),
      [1, 3, 5],
    );
  });

  it('reports an unclosed quote and a stray quote with their line numbers and goes on', () => {
    const { records, bad } = parseCsvText('a,b\n1,x"y\n2,3\n"open,4\n');
    assert.deepEqual(bad, [
      { line: 2, reason: 'stray quote in field 2' },
      { line: 4, reason: 'quote opened in field 1 is never closed' },
    ]);
    assert.deepEqual(
      records.map((r) => r.fields),
      [
        ['a', 'b'],
        ['2', '3'],
      ],
    );
  });

  it('splits on another delimiter and reads decimal commas', () => {
    const { records } = parseCsvText('Datum Zeit;A:f_soll_aktiv [Hz]\nSa. 01.05.21 00:00:30;49,99\n', {
      delimiter: ';',
    });
    assert.deepEqual(records[1].fields, ['Sa. 01.05.21 00:00:30', '49,99']);
    assert.equal(csvNumber('49,99', true), 49.99);
    assert.ok(Number.isNaN(csvNumber('49,99', false) as number));
    assert.equal(csvNumber('', false), null);
    assert.equal(csvNumber('  ', false), null);
    assert.ok(Number.isNaN(csvNumber('error') as number));
  });

  it('splits a comma-separated setting into trimmed names', () => {
    assert.deepEqual(nameList(' a, b ,,c '), ['a', 'b', 'c']);
    assert.deepEqual(nameList(undefined), []);
  });

  describe('CsvRowMapper', () => {
    const columns = ['timestamp', 'turbine_id', 'wind_speed', 'wind_direction', 'power_output'];

    it('types row values: the time as epoch ms, numbers, null for blank, text kept', () => {
      const mapper = new CsvRowMapper({ columns, timeColumn: 'timestamp', numberColumns: ['turbine_id'] });
      assert.deepEqual(mapper.map(['2022-03-01 01:00:00', '2', '12.8', '', 'error']), {
        timestamp: Date.UTC(2022, 2, 1, 1),
        turbine_id: 2,
        wind_speed: 12.8,
        wind_direction: null,
        power_output: 'error',
      });
    });

    it('says why a record is bad: field count, unreadable time, text in a number column', () => {
      const mapper = new CsvRowMapper({ columns, timeColumn: 'timestamp', numberColumns: ['turbine_id'] });
      assert.equal(mapper.map(['x']), 'expected 5 fields, found 1');
      assert.equal(
        mapper.map(['error', '1', '1', '1', '1']),
        'time "error" in column timestamp cannot be read',
      );
      assert.equal(
        mapper.map(['2022-03-01 00:00:00', 'error', '1', '1', '1']),
        'turbine_id "error" is not a number',
      );
    });

    it('builds points with tag columns, a file tag, and only non-blank fields', () => {
      const mapper = new CsvRowMapper({
        columns,
        timeColumn: 'timestamp',
        output: 'points',
        measurement: 'turbine_power',
        tagColumns: ['turbine_id'],
        fieldColumns: ['power_output', 'wind_speed'],
        constantTags: { file: 'data_group_1' },
      });
      assert.deepEqual(mapper.map(['2022-03-01 00:00:00', '7', '', '1', '3.5']), {
        measurement: 'turbine_power',
        tags: { file: 'data_group_1', turbine_id: '7' },
        fields: { power_output: 3.5 },
        timestamp: Date.UTC(2022, 2, 1),
      });
      assert.equal(mapper.map(['2022-03-01 00:00:00', '7', '', '1', '']), 'no field values');
    });

    it('reads Swissgrid rows with a decimal comma into points sharing one tags object', () => {
      const mapper = new CsvRowMapper({
        columns: ['time', 'hz'],
        timeColumn: 'time',
        timeFormat: 'swissgrid',
        timeZone: 'Europe/Zurich',
        decimalComma: true,
        output: 'points',
        measurement: 'grid_frequency',
        constantTags: { series: 'sollfrequenz' },
      });
      const a = mapper.map(['Sa. 01.05.21 00:00:30', '49,99']) as Record<string, unknown>;
      const b = mapper.map(['Sa. 01.05.21 00:01:00', '50']) as Record<string, unknown>;
      assert.deepEqual(a, {
        measurement: 'grid_frequency',
        tags: { series: 'sollfrequenz' },
        fields: { hz: 49.99 },
        timestamp: Date.UTC(2021, 3, 30, 22, 0, 30),
      });
      assert.equal(a.tags, b.tags);
    });

    it('refuses settings that name columns the file does not have', () => {
      assert.throws(
        () => new CsvRowMapper({ columns, timeColumn: 'time' }),
        /time column "time" is not a column/,
      );
      assert.throws(() => new CsvRowMapper({ columns, output: 'points' }), /measurement/);
    });
  });
});
