// Property plots linked to frames: per-frame numbers (calc.energy, info.temperature, ...)
// against the frame index or against another property, drawn by uPlot under the view. A
// marker follows the frame shown; a click or drag on a plot moves the view there. Which
// properties: the ``plots`` trait (and ``plot_x``), or the chooser (plot-chooser.ts).
import uPlot from "uplot";
import uPlotCss from "uplot/dist/uPlot.min.css";
import type { DataClient } from "../data";
import { CHOOSER_CSS, PlotChooser } from "./plot-chooser";
import { nearest, PlotData, plottable, sortedBy } from "./plot-data";

/** Series colours (colour-blind safe, Okabe-Ito). */
const COLORS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"];

export const PLOT_CSS = `${uPlotCss ?? ""}${CHOOSER_CSS}
.zn-plots { display: none; position: relative; height: 34%; min-height: 110px; flex: none; border-top: 1px solid var(--zn-border, #ddd);
  background: var(--zn-bg, #fff); }
.zn-plots.zn-show { display: flex; flex-direction: column; }
.zn-plot-head { display: flex; gap: 12px; padding: 2px 8px; white-space: nowrap; overflow: hidden; font-variant-numeric: tabular-nums; }
.zn-plot-head i { display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }
.zn-plot-area { position: relative; flex: 1; min-height: 0; }
.zn-plot-area .uplot { position: absolute; inset: 0; }
.zn-plot-area .u-over { cursor: pointer; }
.zn-plot-marker { position: absolute; left: 0; top: 0; bottom: 0; width: 0; will-change: transform; border-left: 1px dashed var(--zn-fg, #222); pointer-events: none; }
.zn-plot-dot { position: absolute; left: 0; top: 0; will-change: transform; width: 8px; height: 8px; margin: -4px 0 0 -4px; border-radius: 50%; border: 2px solid var(--zn-bg, #fff); pointer-events: none; }
`;

/** What the plots read from the viewer and tell it. */
export interface PlotsHost {
  data(): DataClient;
  room(): string;
  /** The room's number of frames. */
  length(): number;
  /** The user picked frame ``index`` on a plot. */
  go(index: number): void;
  /** The user chose other properties (or another x): for the traits. */
  chosen(plots: string[], x: string): void;
}

export class Plots {
  /** The panel under the view (header with values, then the plot). */
  readonly panel = document.createElement("div");
  /** The chooser of what to plot (its button goes into the toolbar). */
  readonly chooser: PlotChooser;
  private readonly head = document.createElement("div");
  private readonly area = document.createElement("div");
  private readonly marker = document.createElement("div");
  private dots: HTMLElement[] = [];
  /** The header's value of the frame, x and each property. */
  private values: HTMLElement[] = [];
  private chart: uPlot | null = null;
  private data: PlotData;
  private names: string[] = [];
  private x = "";
  /** Point k of the chart is frame ``frames[k]`` (null: point k is frame k), and frame i
   * is point ``points[i]`` (-1: not plotted). */
  private frames: Int32Array | null = null;
  private points: Int32Array | null = null;
  private shown = -1;
  private dragging = false;
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(private readonly host: PlotsHost) {
    this.data = new PlotData((index, fields) => host.data().read(host.room(), index, fields));
    this.panel.className = "zn-plots";
    this.head.className = "zn-plot-head";
    this.area.className = "zn-plot-area";
    this.area.setAttribute("role", "group");
    this.area.setAttribute("aria-label", "Property plot: click or drag to show that frame");
    this.marker.className = "zn-plot-marker";
    const style = document.createElement("style");
    style.textContent = PLOT_CSS;
    this.panel.append(style, this.head, this.area);
    this.panel.dataset.zndrawPlotFrame = "-1";
    this.chooser = new PlotChooser({
      fields: async () => plottable((await host.data().fields(host.room())).fields),
      chosen: (names, x) => {
        this.show(names, x);
        host.chosen(this.names, this.x);
      },
    });
    this.resize.observe(this.area);
    this.area.addEventListener("pointerdown", (event) => this.press(event));
    this.area.addEventListener("pointermove", (event) => this.dragging && this.pick(event));
    const release = () => (this.dragging = false);
    this.area.addEventListener("pointerup", release);
    this.area.addEventListener("pointercancel", release);
  }

  /** Plot ``names`` against ``x`` ("": the frame index), as the traits say. */
  show(names: string[], x = ""): void {
    const same = names.length === this.names.length && names.every((n, i) => n === this.names[i]) && x === this.x;
    if (same) return;
    this.names = [...names];
    this.x = x;
    this.chart?.destroy(); // made again for these once they are read
    this.chart = null;
    this.panel.classList.toggle("zn-show", names.length > 0);
    this.chooser.show(this.names, this.x);
    void this.reload();
  }

  /** A room was opened (its frames are read again). */
  open(): void {
    this.chooser.forget();
    void this.reload();
  }

  /** Frames changed (indices; null: any, e.g. frames added). */
  changed(changed: Set<number> | null): void {
    if (!this.names.length) return;
    void this.data.refresh(changed, this.host.length()).then(() => this.draw());
  }

  /** Frame ``index`` is on screen: the marker goes there. */
  mark(index: number): void {
    this.shown = index;
    this.placeMarker();
  }

  /** The page's theme changed: redraw the axes in its colours. */
  restyle(): void {
    this.chart?.redraw(false, true);
  }

  dispose(): void {
    this.resize.disconnect();
    this.chart?.destroy();
    this.chart = null;
  }

  // -- data ----------------------------------------------------------------------------
  private async reload(): Promise<void> {
    if (!this.names.length || !this.host.room()) {
      this.chart?.destroy();
      this.chart = null;
      return;
    }
    const fields = this.x ? [...this.names, this.x] : this.names;
    try {
      await this.data.load(fields, this.host.length());
    } catch (error) {
      this.head.textContent = `cannot read ${fields.join(", ")}: ${(error as Error).message}`;
      return;
    }
    this.draw();
  }

  /** (Re)make the chart from the values read. */
  private draw(): void {
    const { names, data } = this;
    if (!names.length || !data.fields.length) return;
    const ys = names.map((name) => data.values.get(name) ?? new Float64Array(data.length).fill(NaN));
    let table: uPlot.AlignedData;
    if (this.x) {
      const sorted = sortedBy(data.values.get(this.x) ?? new Float64Array(0), ys);
      this.frames = sorted.frames;
      this.points = new Int32Array(data.length).fill(-1);
      sorted.frames.forEach((frame, point) => (this.points![frame] = point));
      table = [sorted.x, ...sorted.ys];
    } else {
      this.frames = this.points = null;
      table = [Array.from({ length: data.length }, (_, i) => i), ...ys.map((y) => Array.from(y, (v) => (Number.isNaN(v) ? null : v)))];
    }
    const key = `${this.x}|${names.join(",")}`;
    if (this.chart && this.chart.root.dataset.key === key) {
      this.chart.setData(table);
    } else {
      this.chart?.destroy();
      this.chart = null; // no marker until the new chart and its dots are made
      this.chart = new uPlot(this.options(), table, this.area);
      this.chart.root.dataset.key = key;
      this.chart.over.append(this.marker);
      this.makeHead();
      this.dots = names.map((_, k) => {
        const dot = document.createElement("div");
        dot.className = "zn-plot-dot";
        dot.style.background = COLORS[k % COLORS.length];
        this.chart!.over.append(dot);
        return dot;
      });
    }
    this.panel.dataset.zndrawPlotPoints = String(table[0].length);
    this.placeMarker();
  }

  private options(): uPlot.Options {
    const { width, height } = this.size();
    const ink = () => getComputedStyle(this.panel).color || "#222";
    const scatter = !!this.x;
    const axis = (scale: string, side: number): uPlot.Axis => ({
      scale, side, stroke: ink, grid: { stroke: "#8883", width: 1 }, ticks: { stroke: "#8885", width: 1 }, size: 48,
    });
    // frames are whole numbers: ticks at 1, 2, 5, 10, ... apart
    const frameTicks = scatter ? {} : { incrs: Array.from({ length: 27 }, (_, k) => [1, 2, 5][k % 3] * 10 ** Math.floor(k / 3)) };
    const axes: uPlot.Axis[] = [{ ...axis("x", 2), size: 30, ...frameTicks }];
    this.names.slice(0, 2).forEach((name, k) => axes.push({ ...axis(name, k ? 1 : 3), grid: { show: k === 0, stroke: "#8883" } }));
    return {
      width, height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false } },
      scales: { x: { time: false }, ...Object.fromEntries(this.names.map((name) => [name, { auto: true }])) },
      axes,
      series: [
        { label: this.x || "frame" },
        ...this.names.map((name, k) => ({
          label: name, scale: name, stroke: COLORS[k % COLORS.length], width: 1.5, spanGaps: false,
          ...(scatter ? { paths: () => null, points: { show: true, size: 4, fill: COLORS[k % COLORS.length] } } : { points: { show: false } }),
        })),
      ],
      hooks: { draw: [() => this.placeMarker()] },
    };
  }

  // -- the marker and the header ----------------------------------------------------------
  /** The header: the frame, the x property (if any) and each property, with its value. */
  private makeHead(): void {
    const entry = (name: string, color?: string) => {
      const span = document.createElement("span");
      if (color) {
        const swatch = document.createElement("i");
        swatch.style.background = color;
        span.append(swatch);
      }
      const value = document.createElement("span");
      span.append(`${name} `, value);
      this.head.append(span);
      return value;
    };
    this.head.replaceChildren();
    this.values = [entry("frame"), ...(this.x ? [entry(this.x)] : []), ...this.names.map((name, k) => entry(name, COLORS[k % COLORS.length]))];
  }

  /** Put the marker and the dots at the frame shown (moved, not redrawn: cheap while
   * playing) and its values into the header. */
  private placeMarker(): void {
    const chart = this.chart;
    const index = this.shown;
    if (!chart || index < 0) return;
    this.panel.dataset.zndrawPlotFrame = String(index);
    const point = this.points ? (this.points[index] ?? -1) : index;
    const xs = chart.data[0];
    const visible = point >= 0 && point < xs.length;
    const left = visible ? chart.valToPos(xs[point] as number, "x") : 0;
    this.marker.style.display = visible ? "" : "none";
    this.marker.style.transform = `translateX(${left}px)`;
    const shown = [String(index), ...(this.x ? [visible ? formatValue(xs[point] as number) : "–"] : [])];
    this.names.forEach((name, k) => {
      const y = visible ? (chart.data[k + 1][point] as number | null | undefined) : null;
      shown.push(y == null ? "–" : formatValue(y));
      const dot = this.dots[k];
      if (!dot) return;
      dot.style.display = y == null ? "none" : "";
      if (y != null) dot.style.transform = `translate(${left}px, ${chart.valToPos(y, name)}px)`;
    });
    shown.forEach((text, k) => {
      if (this.values[k] && this.values[k].textContent !== text) this.values[k].textContent = text;
    });
  }

  // -- the user's clicks and drags --------------------------------------------------------
  private press(event: PointerEvent): void {
    if (!this.chart || event.button !== 0 || !this.chart.over.contains(event.target as Node)) return;
    this.dragging = true;
    this.area.setPointerCapture?.(event.pointerId);
    this.pick(event);
  }

  /** The frame under the pointer: the nearest point along x. */
  private pick(event: PointerEvent): void {
    const chart = this.chart;
    if (!chart) return;
    const rect = chart.over.getBoundingClientRect();
    const value = chart.posToVal(event.clientX - rect.left, "x");
    const xs = chart.data[0] as number[];
    const point = nearest(xs, value);
    if (point < 0) return;
    const frame = this.frames ? this.frames[point] : point;
    if (frame !== this.shown) this.host.go(frame);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(100, this.area.clientWidth), height: Math.max(60, this.area.clientHeight) };
  }

  private fit(): void {
    if (this.chart) this.chart.setSize(this.size());
  }
}

function formatValue(value: number): string {
  return Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(3) : String(+value.toFixed(4));
}
