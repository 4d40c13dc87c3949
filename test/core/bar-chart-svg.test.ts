import assert from 'node:assert/strict';
import fc from 'fast-check';
import { barChartSvg, escapeXml, formatNumber, niceTicks } from '../../nodes/core/bar-chart-svg';
import { footprintChartSvg } from '../../nodes/core/footprint-query';

/** Elements and their attributes, read with a regex: enough for the flat SVG the chart writes. */
function elements(svg: string, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of svg.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([\w-:]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    out.push(attrs);
  }
  return out;
}

function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

/** Every tag closed in order: a cheap well-formedness check for the chart's flat markup. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue;
    if (m[1] === '/') assert.equal(stack.pop(), m[2], `unbalanced </${m[2]}>`);
    else stack.push(m[2]);
  }
  assert.deepEqual(stack, []);
}

const bars = [
  { label: '14', sublabel: '06:30', value: 1200 },
  { label: '15', sublabel: '07:00', value: 2500.4 },
  { label: '16', sublabel: '07:30', value: -800 },
  { label: '17', sublabel: '08:00', value: null },
];

describe('bar-chart-svg (core)', () => {
  it('draws one labelled bar per value with title, axis label and unit', () => {
    const svg = barChartSvg({
      title: 'Footprint',
      xLabel: 'Half hour',
      yLabel: 'Footprint',
      unit: 'gCO2eq',
      bars,
    });
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assertBalanced(svg);
    const rects = elements(svg, 'rect').filter((r) => r.class === 'bar');
    assert.equal(rects.length, 3, 'a null value has no bar');
    const t = texts(svg);
    assert.ok(t.includes('Footprint'));
    assert.ok(t.includes('Footprint (gCO2eq)'));
    assert.ok(t.includes('Half hour'));
    for (const label of ['14', '15', '16', '17', '06:30', '08:00', 'n/a', '1,200', '2,500', '-800']) {
      assert.ok(t.includes(label), `label ${label} in ${JSON.stringify(t)}`);
    }
  });

  it('scales bar heights to the values from a zero line, negatives below it', () => {
    const svg = barChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', unit: 'u', bars });
    const [a, b, c] = elements(svg, 'rect').filter((r) => r.class === 'bar');
    const h = (r: Record<string, string>) => Number(r.height);
    assert.ok(Math.abs(h(b) / h(a) - 2500.4 / 1200) < 0.01);
    assert.ok(Math.abs(h(c) / h(a) - 800 / 1200) < 0.01);
    const zeroLine = elements(svg, 'line').find((l) => l.stroke === '#555' && l.y1 === l.y2)!;
    const zero = Number(zeroLine.y1);
    assert.ok(Math.abs(Number(a.y) + h(a) - zero) < 0.2, 'positive bars end at zero');
    assert.ok(Math.abs(Number(c.y) - zero) < 0.2, 'negative bars start at zero');
    assert.ok(Number(a.x) < Number(b.x) && Number(b.x) < Number(c.x), 'bars in order');
  });

  it('escapes text so that labels cannot break the document', () => {
    const svg = barChartSvg({
      title: 'a <b> & "c"',
      xLabel: "x'",
      yLabel: 'y',
      unit: '<u>',
      bars: [{ label: '</text><script>', value: 1 }],
    });
    assert.ok(!svg.includes('<script>'));
    assert.ok(svg.includes('a &lt;b&gt; &amp; &quot;c&quot;'));
    assertBalanced(svg);
    assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
  });

  it('picks 1-2-5 ticks that cover the values and include zero', () => {
    assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(niceTicks(-800, 2500), [-1000, 0, 1000, 2000, 3000]);
    assert.deepEqual(niceTicks(0, 0), [0, 1]);
    const value = fc
      .double({ min: -1e6, max: 1e6, noNaN: true })
      .filter((v) => v === 0 || Math.abs(v) >= 1e-6);
    fc.assert(
      fc.property(value, value, (x, y) => {
        const [lo, hi] = [Math.min(0, x, y), Math.max(0, x, y)];
        const ticks = niceTicks(lo, hi);
        const slack = 1e-9 * (hi - lo); // rounding of the tick values only
        assert.ok(
          ticks[0] <= lo + slack && ticks[ticks.length - 1] >= hi - slack,
          JSON.stringify({ lo, hi, ticks }),
        );
        assert.ok(ticks.length >= 2 && ticks.length <= 12, JSON.stringify(ticks));
      }),
    );
    assert.equal(formatNumber(12345.6), '12,346');
    assert.equal(formatNumber(12.345), '12.3');
    assert.equal(formatNumber(0.012345), '0.0123');
  });

  it('charts footprint rows with one bar per HalfHourId labelled with its UTC start', () => {
    const rows = [14, 15, 16].map((id) => ({
      half_hour_id: id,
      start: new Date(Date.UTC(2019, 10, 25) + (id - 1) * 1_800_000).toISOString(),
      end: '',
      mean_kw: 1,
      energy_kwh: 0.5,
      intensity: 200,
      footprint_g: 100 * id,
    }));
    const svg = footprintChartSvg('abc123xyz', '2019-11-25', rows);
    assert.equal(elements(svg, 'rect').filter((r) => r.class === 'bar').length, 3);
    const t = texts(svg);
    assert.ok(t.includes('Carbon footprint of abc123xyz on 2019-11-25 (UTC)'));
    assert.ok(t.includes('Footprint (gCO2eq)'));
    assert.ok(t.includes('06:30') && t.includes('07:30'));
  });
});
