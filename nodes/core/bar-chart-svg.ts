/**
 * A small, dependency-free SVG bar chart: title, y axis with "nice" ticks and a unit, x axis
 * with one labelled bar each, value labels on the bars, negative values below the zero line.
 * Text is XML-escaped, so labels from data cannot break the document.
 */

export interface Bar {
  label: string;
  /** Second label line under the bar (e.g. the start time). */
  sublabel?: string;
  /** null: no bar, the label shows "n/a". */
  value: number | null;
}

export interface BarChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  unit: string;
  bars: readonly Bar[];
  width?: number;
  height?: number;
  barColor?: string;
  negativeColor?: string;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** Ticks at 1, 2 or 5 × 10^k covering [min, max] with about `count` steps. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  // values this close to zero draw as zero; they would only underflow the step
  if (Math.abs(min) < 1e-9) min = 0;
  if (Math.abs(max) < 1e-9) max = 0;
  if (min === max) {
    if (min === 0) return [0, 1];
    [min, max] = min > 0 ? [0, max] : [min, 0];
  }
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  // whole multiples of the step (no running sum, so no drift): k0·step ≤ min, k1·step ≥ max
  const k0 = Math.floor(min / step + 1e-9);
  const k1 = Math.max(Math.ceil(max / step - 1e-9), k0 + 1);
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) ticks.push(Number((k * step).toPrecision(12)) + 0);
  return ticks;
}

/** Short number text: 1234.5 → "1,235", 12.345 → "12.3", 0.01234 → "0.0123". */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en');
  if (abs >= 10) return value.toFixed(1);
  if (abs === 0) return '0';
  return Number(value.toPrecision(3)).toString();
}

export function barChartSvg(options: BarChartOptions): string {
  const { bars, barColor = '#2e7d5b', negativeColor = '#c0563b' } = options;
  const width = options.width ?? Math.max(480, 120 + bars.length * 56);
  const height = options.height ?? 380;
  const m = { top: 56, right: 24, bottom: 78, left: 96 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const values = bars.map((b) => b.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
  const lo = ticks[0];
  const hi = ticks[ticks.length - 1];
  const y = (v: number) => m.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const slot = plotW / Math.max(bars.length, 1);
  const barW = Math.max(2, slot * 0.7);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="12" role="img" aria-label="${escapeXml(options.title)}">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${width / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  parts.push('<g class="y-axis">');
  for (const t of ticks) {
    const ty = y(t).toFixed(1);
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${ty}" y2="${ty}" stroke="${t === 0 ? '#555' : '#e3e3e3'}"/>`,
      `<text x="${m.left - 8}" y="${ty}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatNumber(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#555"/>`,
    `<text class="y-label" transform="translate(22 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">` +
      `${escapeXml(`${options.yLabel} (${options.unit})`)}</text>`,
    '</g>',
    '<g class="bars">',
  );
  bars.forEach((bar, i) => {
    const cx = m.left + slot * (i + 0.5);
    const labelY = m.top + plotH + 18;
    parts.push(
      `<text class="bar-label" x="${cx.toFixed(1)}" y="${labelY}" text-anchor="middle">${escapeXml(bar.label)}</text>`,
    );
    if (bar.sublabel !== undefined) {
      parts.push(
        `<text x="${cx.toFixed(1)}" y="${labelY + 15}" text-anchor="middle" fill="#666" font-size="11">${escapeXml(bar.sublabel)}</text>`,
      );
    }
    if (bar.value === null || !Number.isFinite(bar.value)) {
      parts.push(
        `<text x="${cx.toFixed(1)}" y="${(y(0) - 6).toFixed(1)}" text-anchor="middle" fill="#999">n/a</text>`,
      );
      return;
    }
    const top = Math.min(y(bar.value), y(0));
    const h = Math.abs(y(bar.value) - y(0));
    const tip = `${bar.label}${bar.sublabel ? ` (${bar.sublabel})` : ''}: ${formatNumber(bar.value)} ${options.unit}`;
    parts.push(
      `<rect class="bar" x="${(cx - barW / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" ` +
        `height="${Math.max(h, 0.5).toFixed(1)}" fill="${bar.value < 0 ? negativeColor : barColor}"><title>${escapeXml(tip)}</title></rect>`,
      `<text class="value" x="${cx.toFixed(1)}" y="${(bar.value < 0 ? top + h + 13 : top - 5).toFixed(1)}" ` +
        `text-anchor="middle" font-size="11">${escapeXml(formatNumber(bar.value))}</text>`,
    );
  });
  parts.push(
    '</g>',
    `<text class="x-label" x="${m.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
