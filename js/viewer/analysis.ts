// What a chemist checks on a frame: colour by property (with its colour bar), arrows for an
// N x 3 property, periodic images and wrapping, measurements, and the atom inspector. Each
// is a synced trait (docs/widget.md) applied to the renderer; the panel sets the same traits.
import type { DataClient } from "../data";
import type { Frame } from "../frames";
import type { Vec3 } from "../geometry";
import { parseProperty, propertyChoices, vectorChoices } from "../properties";
import type { Renderer } from "../renderer";
import { COLORMAPS, DEFAULT_COLORMAP } from "../renderer/coloring";
import { ColorBar } from "./colorbar";
import { Inspector } from "./inspector";
import type { ModelListeners } from "./model";
import { AnalysisPanel } from "./panel";

/** The traits this part reads (and, for ``measurements``, writes). */
export const ANALYSIS_TRAITS = ["color_by", "colormap", "color_range", "vectors", "vector_scale", "vector_color", "repeat", "wrap", "measurements"] as const;

/** Milliseconds between measurement updates to the kernel while playing. */
const MEASURE_THROTTLE_MS = 250;

export interface AnalysisHost {
  renderer: Renderer;
  listeners: ModelListeners;
  /** Where the panel, colour bar and inspector go (over the canvas). */
  view: HTMLElement;
  frame(): Frame | null;
  room(): string;
  data(): DataClient;
  selection(): number[];
  playing(): boolean;
  /** Read these fields with every frame from now on (and show the frame again). */
  readFields(fields: string[]): void;
}

/** One entry of the ``measurements`` trait. */
interface MeasurementTrait {
  atoms: number[];
  kind?: string;
  value?: number;
  frame?: number;
  /** The selection's own measurement (not kept). */
  selection?: boolean;
}

export class Analysis {
  readonly colorBar: ColorBar;
  readonly inspector: Inspector;
  readonly panel: AnalysisPanel;
  private kept: number[][] = [];
  private fullCache: { key: string; frame: Promise<Frame> } | null = null;
  private sentMeasurements = "[]";
  private pending: MeasurementTrait[] = [];
  private measured = false; // some group was measured on the last call
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly host: AnalysisHost) {
    const { renderer, view } = host;
    this.colorBar = new ColorBar(view);
    this.inspector = new Inspector({ renderer, frame: host.frame, full: (frame) => this.full(frame), selection: host.selection, playing: host.playing }, view);
    this.panel = new AnalysisPanel(view, COLORMAPS, {
      set: (name, value) => this.set(name, value),
      get: (name) => this.get(name),
      keep: () => this.keepSelection(),
      remove: (atoms) => this.removeKept(atoms),
      opened: () => void this.offerChoices(),
    });
    for (const name of ANALYSIS_TRAITS) host.listeners.on(`change:${name}`, () => this.apply(name));
    for (const name of ANALYSIS_TRAITS) this.apply(name);
  }

  private get(name: string): unknown {
    return this.host.listeners.model.get(name);
  }

  /** Set trait ``name`` (the panel's controls), tell the kernel, and apply it. */
  set(name: string, value: unknown): void {
    const { model } = this.host.listeners;
    model.set(name, value);
    model.save_changes();
    this.apply(name);
  }

  /** Apply trait ``name`` to the view. */
  private apply(name: (typeof ANALYSIS_TRAITS)[number] | string): void {
    const { renderer } = this.host;
    if (name === "color_by" || name === "colormap" || name === "color_range") {
      const range = this.get("color_range") as number[] | null | undefined;
      renderer.setColoring({
        property: String(this.get("color_by") ?? ""),
        colormap: String(this.get("colormap") || DEFAULT_COLORMAP),
        range: Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) ? [range[0], range[1]] : null,
      });
      this.colorBar.show(renderer.colorKey);
      this.readFields();
    } else if (name === "vectors" || name === "vector_scale" || name === "vector_color") {
      renderer.setVectors({ field: String(this.get("vectors") ?? ""), scale: Number(this.get("vector_scale") ?? 1), color: String(this.get("vector_color") || "") || undefined });
      this.readFields();
    } else if (name === "repeat") {
      const repeat = this.get("repeat");
      renderer.setRepeat((Array.isArray(repeat) && repeat.length === 3 ? repeat : [1, 1, 1]) as Vec3);
    } else if (name === "wrap") {
      renderer.setWrap(!!this.get("wrap"));
    } else if (name === "measurements") {
      const value = (this.get("measurements") ?? []) as MeasurementTrait[];
      if (JSON.stringify(value) === this.sentMeasurements) return; // our own write
      this.kept = value.filter((m) => Array.isArray(m?.atoms)).map((m) => m.atoms.map(Number));
      this.measure(true);
    }
    this.panel.sync();
  }

  /** The fields the colouring and arrows need, read with every frame. */
  private readFields(): void {
    const fields = [parseProperty(String(this.get("color_by") ?? ""))?.field, String(this.get("vectors") ?? "") || undefined];
    this.host.readFields(fields.filter((f): f is string => !!f));
  }

  /** A frame is on screen (or playback stopped on it): the colour bar, measurements and
   * inspector follow it. */
  shown(): void {
    this.colorBar.show(this.host.renderer.colorKey);
    this.measure(!this.host.playing());
    this.inspector.refresh();
  }

  /** The selection changed: it is measured (2-4 atoms) besides the kept groups. */
  selectionChanged(): void {
    this.measure(true);
    this.inspector.refresh();
  }

  /** Keep the selection's measurement in the list (key m, or the panel's button). */
  keepSelection(): void {
    const selection = this.host.selection();
    if (selection.length < 2 || selection.length > 4) return;
    if (!this.kept.some((g) => g.join() === selection.join())) this.kept.push([...selection]);
    this.measure(true);
  }

  private removeKept(atoms: number[]): void {
    this.kept = this.kept.filter((g) => g.join() !== atoms.join());
    this.measure(true);
  }

  /** Measure the kept groups and the selection; tell the kernel (at most ~4 times a second
   * unless ``now``). */
  private measure(now: boolean): void {
    const selection = this.host.selection();
    const groups = this.kept.map((g) => [...g]);
    const live = selection.length >= 2 && selection.length <= 4 && !groups.some((g) => g.join() === selection.join());
    if (live) groups.push([...selection]);
    if (!groups.length && !this.measured) return; // nothing measured, before or now
    this.measured = groups.length > 0;
    const { renderer } = this.host;
    renderer.setMeasurements(groups);
    const frame = this.host.frame();
    const results = renderer.measurements;
    this.panel.showMeasurements(results, this.kept);
    const value: MeasurementTrait[] = results
      .filter((m) => this.kept.some((g) => g.join() === m.atoms.join()))
      .map((m) => ({ atoms: m.atoms, kind: m.kind, value: m.value, frame: frame?.index ?? -1 }));
    // the selection's own measurement is listed too, last, marked as such
    const selected = live ? results.find((m) => m.atoms.join() === selection.join()) : undefined;
    if (selected) value.push({ atoms: selected.atoms, kind: selected.kind, value: selected.value, frame: frame?.index ?? -1, selection: true });
    this.pending = value;
    if (now) this.sendMeasurements();
    else this.timer ??= setTimeout(() => this.sendMeasurements(), MEASURE_THROTTLE_MS);
  }

  /** Write the latest measurements to the trait, unless it holds them already. */
  private sendMeasurements(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const text = JSON.stringify(this.pending);
    if (text === this.sentMeasurements) return;
    this.sentMeasurements = text;
    const { model } = this.host.listeners;
    model.set("measurements", this.pending);
    model.save_changes();
  }

  /** The shown frame with every field (read once per frame version). */
  full(frame: Frame): Promise<Frame> {
    const key = `${this.host.room()}/${frame.id}/${frame.version}`;
    if (this.fullCache?.key !== key) {
      const read = this.host
        .data()
        .frames(this.host.room(), String(frame.index))
        .then((r) => {
          const full = r.frames[0];
          if (!full || full.id !== frame.id || full.version !== frame.version) return frame; // changed meanwhile
          return full;
        });
      this.fullCache = { key, frame: read };
      read.catch(() => this.fullCache?.frame === read && (this.fullCache = null));
    }
    return this.fullCache.frame;
  }

  /** Offer the shown frame's per-atom properties in the panel's lists. */
  private async offerChoices(): Promise<void> {
    const frame = this.host.frame();
    if (!frame) return;
    const full = await this.full(frame).catch(() => frame);
    this.panel.offer(propertyChoices(full), vectorChoices(full));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
