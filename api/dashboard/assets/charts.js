/**
 * The dashboard's charts, all uPlot (a 50 KB canvas time-series library: it redraws tens of
 * thousands of points in a few ms, which a live page at 20k readings/s needs). Two shapes:
 * a rolling time series and a bar chart over categories. Each keeps its figure's
 * `data-points` attribute current, so a test (or a person) can see it has data.
 */
import uPlot from "/dashboard/vendor/uplot.js";

export const PALETTE = ["#58a6ff", "#3fb950", "#d29922", "#f85149", "#bc8cff", "#39c5cf", "#ff9bce", "#a5d6ff"];

const AXIS = { stroke: "#8b96a5", grid: { stroke: "#2c333d", width: 1 }, ticks: { stroke: "#2c333d" } };

function widthOf(element) {
  return Math.max(200, element.clientWidth || element.parentElement?.clientWidth || 400);
}

function followWidth(element, chart, height) {
  new ResizeObserver(() => chart.setSize({ width: widthOf(element), height })).observe(element);
}

/** a rolling time series: x is wall time in seconds, one line per series */
export class TimeChart {
  constructor(element, { series, height = 200, maxPoints = 300, yLabel = "", decimals = 2 }) {
    this.element = element;
    this.maxPoints = maxPoints;
    this.data = [[], ...series.map(() => [])];
    this.chart = new uPlot(
      {
        width: widthOf(element),
        height,
        scales: { x: { time: true } },
        axes: [AXIS, { ...AXIS, label: yLabel, size: 60 }],
        series: [
          {},
          ...series.map((label, i) => ({
            label,
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            value: (_u, v) => (v === null || v === undefined ? "-" : v.toFixed(decimals)),
          })),
        ],
      },
      this.data,
      element,
    );
    followWidth(element, this.chart, height);
  }

  /** one point per series at `atMs`; null leaves a gap */
  push(atMs, values) {
    this.data[0].push(atMs / 1000);
    values.forEach((v, i) => this.data[i + 1].push(Number.isFinite(v) ? v : null));
    if (this.data[0].length > this.maxPoints) for (const column of this.data) column.shift();
    this.chart.setData(this.data);
    this.countPoints();
  }

  /** the whole series at once: x in ms (ascending), one column of values per series */
  replace(xsMs, columns) {
    this.data = [xsMs.map((x) => x / 1000), ...columns.map((c) => c.map((v) => (Number.isFinite(v) ? v : null)))];
    this.chart.setData(this.data);
    this.countPoints();
  }

  /** data-points: the x positions where at least one series has a value (gaps do not count) */
  countPoints() {
    let n = 0;
    for (let i = 0; i < this.data[0].length; i++) if (this.data.some((c, s) => s > 0 && c[i] !== null)) n++;
    this.element.dataset.points = String(n);
  }
}

/** bars over named categories (partitions, reasons, kinds), replaced whole at each update */
export class BarChart {
  constructor(element, { label, height = 200, color = PALETTE[0], decimals = 0 }) {
    this.element = element;
    this.categories = [];
    const bars = uPlot.paths.bars({ size: [0.7, 60] });
    this.chart = new uPlot(
      {
        width: widthOf(element),
        height,
        scales: {
          x: { time: false, range: (_u) => [-0.5, Math.max(0.5, this.categories.length - 0.5)] },
          // bars stand on zero
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        axes: [
          {
            ...AXIS,
            splits: () => this.categories.map((_, i) => i),
            values: (_u, splits) => splits.map((i) => shortLabel(this.categories[i] ?? "")),
            // slanted labels once they would run into each other
            rotate: () => (this.categories.length * 11 > widthOf(element) / 7 ? -30 : 0),
            size: 64,
          },
          { ...AXIS, size: 60 },
        ],
        series: [
          { value: (_u, i) => this.categories[i] ?? "" },
          { label, stroke: color, fill: `${color}99`, paths: bars, points: { show: false },
            value: (_u, v) => (v === null || v === undefined ? "-" : v.toFixed(decimals)) },
        ],
      },
      [[], []],
      element,
    );
    followWidth(element, this.chart, height);
  }

  set(categories, values) {
    this.categories = categories;
    this.chart.setData([categories.map((_, i) => i), values]);
    this.element.dataset.points = String(values.length);
  }
}

function shortLabel(text) {
  return text.length > 18 ? `${text.slice(0, 17)}…` : text;
}

/** a table of the newest rows first, at most `limit`; cells are text, never HTML */
export class LiveTable {
  constructor(element, columns, limit = 15) {
    this.limit = limit;
    this.element = element;
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const column of columns) {
      const th = document.createElement("th");
      th.textContent = column;
      head.appendChild(th);
    }
    this.body = table.createTBody();
    element.appendChild(table);
  }

  prepend(cells) {
    const row = this.body.insertRow(0);
    for (const cell of cells) row.insertCell().textContent = String(cell);
    while (this.body.rows.length > this.limit) this.body.deleteRow(-1);
    this.element.dataset.points = String(this.body.rows.length);
  }
}

/** a big number with a line of detail under it, and a small trend chart */
export class KpiTile {
  constructor(element, { series, decimals = 2 }) {
    this.element = element;
    element.classList.add("kpi");
    this.value = document.createElement("div");
    this.value.className = "value";
    this.value.textContent = "-";
    this.detail = document.createElement("div");
    this.detail.className = "detail";
    const trend = document.createElement("div");
    element.append(this.value, this.detail, trend);
    this.trend = new TimeChart(trend, { series, height: 110, maxPoints: 600, decimals });
  }

  show(text, tone, detail) {
    this.value.textContent = text;
    this.value.className = `value ${tone}`;
    this.detail.textContent = detail;
  }

  push(atMs, values) {
    this.trend.push(atMs, values);
    this.element.dataset.points = this.trend.element.dataset.points;
  }
}

export function empty(element, text) {
  const note = document.createElement("p");
  note.className = "empty";
  note.textContent = text;
  element.appendChild(note);
  return note;
}
