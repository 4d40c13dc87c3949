import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FrequencySetpoints,
  GERMAN_WEEKDAYS,
  SWISSGRID_HEADER,
  frequencyCsvChunks,
  frequencyRange,
  frequencyRowCount,
  parseStep,
  swissgridTimestamp,
  writeFrequencyCsv,
} from '../../scripts/gen-frequency';

function lines(options: Parameters<typeof frequencyCsvChunks>[0], rowsPerChunk = 1000): string[] {
  return [...frequencyCsvChunks(options, rowsPerChunk)].join('').trimEnd().split('\n');
}

const ROW = /^(So|Mo|Di|Mi|Do|Fr|Sa)\. (\d{2})\.(\d{2})\.(\d{2}) (\d{2}):(\d{2}):(\d{2});(50|49\.99|50\.01)$/;

describe('gen-frequency (Swissgrid Sollfrequenz CSV generator)', () => {
  it('writes the Swissgrid header and rows like "Sa. 01.05.21 00:00:30;50" from local midnight', () => {
    const out = lines({ start: '2021-05-01', days: 1, stepMs: 30_000 });
    assert.equal(out[0], SWISSGRID_HEADER);
    assert.equal(out[0], 'Datum Zeit;A:f_soll_aktiv [Hz]');
    assert.equal(out[1], 'Sa. 01.05.21 00:00:00;50');
    assert.equal(out[2], 'Sa. 01.05.21 00:00:30;50');
    assert.equal(out.at(-1)!.slice(0, 21), 'Sa. 01.05.21 23:59:30');
    assert.equal(out.length - 1, 2880);
    for (const line of out.slice(1)) assert.match(line, ROW);
  });

  it('gives every row the German weekday abbreviation of its own date', () => {
    const out = lines({ start: '2021-12-27', days: 9, stepMs: 3_600_000 });
    const seen = new Set<string>();
    for (const line of out.slice(1)) {
      const [, wd, dd, mm, yy] = ROW.exec(line)!;
      const weekday = new Date(Date.UTC(2000 + Number(yy), Number(mm) - 1, Number(dd))).getUTCDay();
      assert.equal(wd, GERMAN_WEEKDAYS[weekday], line);
      seen.add(wd);
    }
    assert.deepEqual([...seen].sort(), ['Di', 'Do', 'Fr', 'Mi', 'Mo', 'Sa', 'So']);
    assert.ok(out.some((l) => l.startsWith('Sa. 01.01.22 00:00:00;')));
  });

  it('writes local Swiss time: the hour 02:00 is skipped on the March DST day and repeated in October', () => {
    const march = lines({ start: '2021-03-28', days: 1, stepMs: 900_000 }).slice(1);
    assert.equal(march.length, 23 * 4);
    assert.ok(!march.some((l) => l.includes(' 02:')));
    const i = march.findIndex((l) => l.startsWith('So. 28.03.21 01:45:00'));
    assert.equal(march[i + 1].slice(0, 21), 'So. 28.03.21 03:00:00');

    const october = lines({ start: '2021-10-31', days: 1, stepMs: 900_000 }).slice(1);
    assert.equal(october.length, 25 * 4);
    assert.equal(october.filter((l) => l.startsWith('So. 31.10.21 02:00:00')).length, 2);
    assert.equal(october.filter((l) => / 02:/.test(l)).length, 8);
    assert.equal(october.at(-1)!.slice(0, 21), 'So. 31.10.21 23:45:00');
  });

  it('formats every row exactly as the slow Intl-based conversion does, across both DST switches', () => {
    for (const [start, days] of [
      ['2021-03-27', 3],
      ['2021-10-30', 3],
    ] as const) {
      const { startMs } = frequencyRange({ start, days });
      const out = lines({ start, days, stepMs: 60_000 }).slice(1);
      out.forEach((line, i) =>
        assert.equal(line.slice(0, 21), swissgridTimestamp(startMs + i * 60_000), line),
      );
    }
  });

  it('is mostly 50 Hz with time-correction periods of whole hours at 49.99 or 50.01', () => {
    const out = lines({ start: '2021-05-01', days: 61, stepMs: 900_000 }).slice(1);
    const counts = new Map<string, number>();
    for (const line of out) {
      const v = line.split(';')[1];
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ['49.99', '50', '50.01']);
    assert.ok(counts.get('50')! / out.length > 0.75, JSON.stringify([...counts]));
    // a correction never jumps straight from one side to the other
    for (let i = 1; i < out.length; i++) {
      const pair = [out[i - 1].split(';')[1], out[i].split(';')[1]].sort().join('/');
      assert.notEqual(pair, '49.99/50.01', out[i]);
    }
  });

  it('is deterministic per seed and gives the same set point at the same instant whatever the step', () => {
    const a = lines({ start: '2021-05-01', days: 20, stepMs: 3_600_000, seed: 7 });
    assert.deepEqual(lines({ start: '2021-05-01', days: 20, stepMs: 3_600_000, seed: 7 }), a);
    assert.notDeepEqual(lines({ start: '2021-05-01', days: 20, stepMs: 3_600_000, seed: 8 }), a);
    const fine = new Map(
      lines({ start: '2021-05-01', days: 20, stepMs: 900_000, seed: 7 })
        .slice(1)
        .map((l) => l.split(';') as [string, string]),
    );
    for (const line of a.slice(1)) {
      const [time, value] = line.split(';');
      assert.equal(fine.get(time), value, time);
    }
    const setpoints = new FrequencySetpoints(100, 7);
    assert.equal(setpoints.at(100), new FrequencySetpoints(100, 7).at(100));
  });

  it('counts 31,536,000 rows for 365 days at 1 s (a year with both DST switches)', () => {
    assert.equal(frequencyRowCount({ start: '2021-05-01', days: 365, stepMs: 1000 }), 31_536_000);
    assert.equal(frequencyRowCount({ start: '2021-05-01', days: 61, stepMs: 30_000 }), 175_680);
  });

  it('reads steps like 1s, 30s, 15m and 1h and refuses anything else', () => {
    assert.equal(parseStep('1s'), 1000);
    assert.equal(parseStep('30s'), 30_000);
    assert.equal(parseStep('15m'), 900_000);
    assert.equal(parseStep('1h'), 3_600_000);
    for (const bad of ['0s', '1.5s', '500ms', '1d', 's', '']) assert.throws(() => parseStep(bad), /step/);
  });

  it('streams the same text to a file, creating its folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gen-frequency-'));
    try {
      const path = join(dir, 'nested', 'f.csv');
      const result = await writeFrequencyCsv(path, { start: '2021-05-01', days: 2, stepMs: 30_000 });
      assert.equal(result.rows, 5760);
      const text = readFileSync(path, 'utf8');
      assert.equal(text, [...frequencyCsvChunks({ start: '2021-05-01', days: 2, stepMs: 30_000 })].join(''));
      assert.equal(text.split('\n').length - 2, 5760);
      assert.equal(result.bytes, text.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
