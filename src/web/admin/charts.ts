/**
 * The dashboard's charts as geometry for views/admin/_chart.ejs, which draws them as inline SVG
 * (docs/decisions.md, "Dashboard charts are server-side SVG"). Coordinates are in the viewBox:
 * the SVG scales to its container, so one drawing serves a phone and a desktop. Colours are
 * classes (chart-s0…), never style attributes: the CSP allows no inline style.
 */

/** One named series: its values per bucket (bar charts) or per row (horizontal bars). */
export interface ChartSeries {
  /** The catalogue key of its name (activity.series.<key>). */
  key: string;
  values: number[];
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Which series' colour (chart-s<series>). */
  series: number;
}

interface AxisLabel {
  x: number;
  y: number;
  text: string;
}

export interface StackedBarChart {
  kind: 'stacked';
  width: number;
  height: number;
  bars: Rect[];
  /** Horizontal grid lines with their value at the left. */
  grid: Array<{ y: number; label: string }>;
  plot: { left: number; right: number };
  xLabels: AxisLabel[];
  series: Array<ChartSeries & { total: number }>;
  /** The table behind the chart: a row per bucket. */
  rows: Array<{ label: string; values: number[] }>;
}

export interface HorizontalBarChart {
  kind: 'horizontal';
  width: number;
  height: number;
  bars: Array<Rect & { label: AxisLabel; value: AxisLabel; rest: boolean }>;
  rows: Array<{ label: string; values: number[]; rest: boolean }>;
}

const WIDTH = 400;
const HEIGHT = 200;
const PLOT = { left: 36, right: WIDTH - 4, top: 8, bottom: HEIGHT - 22 };

/** The smallest of 1, 2, 5 × 10^k at or above `max` (at least 1): round grid values. */
function niceCeiling(max: number): number {
  if (max <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((m) => m * power >= max) ?? 10;
  return step * power;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Bars per bucket, the series stacked in order. `labels` names each bucket (the table's rows);
 * `tick` names the few buckets the x axis shows (about six, so they never overlap on a phone).
 */
export function stackedBars(input: {
  labels: string[];
  ticks: string[];
  series: ChartSeries[];
  formatNumber: (n: number) => string;
}): StackedBarChart {
  const n = input.labels.length;
  const totals = input.labels.map((_, i) => sum(input.series.map((s) => s.values[i] ?? 0)));
  const top = niceCeiling(Math.max(0, ...totals));
  const slot = (PLOT.right - PLOT.left) / Math.max(n, 1);
  const barWidth = Math.max(1, slot * 0.7);
  const scale = (PLOT.bottom - PLOT.top) / top;
  const bars: Rect[] = [];
  input.labels.forEach((_, i) => {
    let base = PLOT.bottom;
    input.series.forEach((series, s) => {
      const value = series.values[i] ?? 0;
      if (value <= 0) return;
      const height = value * scale;
      base -= height;
      bars.push({
        x: round(PLOT.left + i * slot + (slot - barWidth) / 2),
        y: round(base),
        width: round(barWidth),
        height: round(height),
        series: s,
      });
    });
  });
  // Grid at 0, half and the top; half only when it is a whole number.
  const gridValues = top % 2 === 0 ? [0, top / 2, top] : [0, top];
  const every = Math.max(1, Math.ceil(n / 6));
  return {
    kind: 'stacked',
    width: WIDTH,
    height: HEIGHT,
    bars,
    plot: { left: PLOT.left, right: PLOT.right },
    grid: gridValues.map((value) => ({ y: round(PLOT.bottom - value * scale), label: input.formatNumber(value) })),
    xLabels: input.ticks.flatMap((text, i) =>
      i % every === 0 ? [{ x: round(PLOT.left + i * slot + slot / 2), y: HEIGHT - 6, text }] : [],
    ),
    series: input.series.map((s) => ({ ...s, total: sum(s.values) })),
    rows: input.labels.map((label, i) => ({ label, values: input.series.map((s) => s.values[i] ?? 0) })),
  };
}

const ROW = 34;

/**
 * One bar per row (a client's token requests), the name above its bar and the number at its
 * end. A `rest` row sums those not shown (the view names it).
 */
export function horizontalBars(input: {
  rows: Array<{ label: string; value: number; rest?: boolean }>;
  formatNumber: (n: number) => string;
}): HorizontalBarChart {
  const top = Math.max(1, ...input.rows.map((r) => r.value));
  // Room at the right for the number.
  const span = WIDTH - 60;
  return {
    kind: 'horizontal',
    width: WIDTH,
    height: Math.max(ROW, input.rows.length * ROW),
    bars: input.rows.map((row, i) => {
      const width = Math.max(1, round((row.value / top) * span));
      const y = i * ROW + 16;
      return {
        x: 0,
        y,
        width,
        height: 14,
        series: 0,
        rest: row.rest === true,
        label: { x: 0, y: y - 4, text: row.label.length > 60 ? `${row.label.slice(0, 59)}…` : row.label },
        value: { x: width + 6, y: y + 11, text: input.formatNumber(row.value) },
      };
    }),
    rows: input.rows.map((row) => ({ label: row.label, values: [row.value], rest: row.rest === true })),
  };
}

/** Each bucket's name for the table ("15 Jan, 09:00") and for the axis ("09:00"), in UTC. */
export function bucketLabels(
  unit: 'hour' | 'day',
  buckets: Date[],
  locale: string,
): { labels: string[]; ticks: string[] } {
  const day = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const time = new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: 'UTC',
  });
  return {
    labels: buckets.map((b) => (unit === 'hour' ? `${day.format(b)}, ${time.format(b)}` : day.format(b))),
    ticks: buckets.map((b) => (unit === 'hour' ? time.format(b) : day.format(b))),
  };
}
