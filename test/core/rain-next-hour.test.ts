import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rainNextHour } from '../../nodes/core/rain-next-hour';

const t0 = 1_720_180_800; // 2024-07-05T12:00:00Z, epoch s
const response = (rate: (i: number) => number | null, currentDt = t0, count = 61) => ({
  current: { dt: currentDt },
  minutely: Array.from({ length: count }, (_x, i) => ({ dt: t0 + i * 60, precipitation: rate(i) })),
});

describe('rainNextHour', () => {
  it('turns 60 minutes at 1.2 mm/h into 1.2 mm', () => {
    const r = rainNextHour(response(() => 1.2));
    assert.deepEqual(r, { ok: true, value: { time: '2024-07-05T12:00:00.000Z', mm: 1.2, minutes: 60 } });
  });

  it('sums only the minutes in [now, now + 60 min): the 61st minute is outside', () => {
    const r = rainNextHour(response((i) => (i === 60 ? 600 : i === 0 ? 6 : 0)));
    assert.ok(r.ok);
    assert.equal(r.value.mm, 0.1);
  });

  it('starts at current.dt rounded down to the minute', () => {
    const r = rainNextHour(response((i) => (i === 0 ? 60 : 0), t0 + 30));
    assert.ok(r.ok);
    assert.equal(r.value.mm, 1);
    assert.equal(r.value.time, '2024-07-05T12:00:00.000Z');
  });

  it('counts missing or null minutes in `minutes`, not as rain', () => {
    const r = rainNextHour(response((i) => (i % 2 ? null : 6), t0, 30));
    assert.ok(r.ok);
    assert.equal(r.value.minutes, 15);
    assert.equal(r.value.mm, 1.5);
  });

  it("reads 'mm' values as amounts when asked", () => {
    const r = rainNextHour(
      response(() => 0.1),
      { unit: 'mm' },
    );
    assert.ok(r.ok);
    assert.equal(r.value.mm, 6);
  });

  it('gives 0 mm for the recorded dry One Call sample', () => {
    const file = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'owm', 'onecall_devights.json');
    const r = rainNextHour(JSON.parse(readFileSync(file, 'utf8')));
    assert.ok(r.ok);
    assert.equal(r.value.mm, 0);
    assert.ok(r.value.minutes >= 59);
  });

  it('explains a response without minutely', () => {
    const r = rainNextHour({ current: { dt: t0 } });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /minutely/);
  });
});
