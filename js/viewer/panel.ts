// The analysis panel (a collapsible box at the view's top right): colour by property, colour
// map and range, arrows, periodic images and wrapping, and the list of measurements. Its
// controls set the viewer's traits; it shows what the traits say (``sync``).
import { formatMeasurement, type Measurement } from "../renderer/layers/measurements";
import { DEFAULT_ARROW_COLOR } from "../renderer/layers/vectors";

export const PANEL_CSS = `
.zn-panel { position: absolute; right: 6px; top: 6px; z-index: 2; max-width: 260px; max-height: calc(100% - 12px); overflow: auto;
  background: var(--zn-bg1); border: 1px solid var(--zn-border); border-radius: 3px; padding: 2px 6px; }
.zn-panel summary { cursor: pointer; }
.zn-panel label { display: flex; align-items: center; gap: 4px; margin: 3px 0; }
.zn-panel input[type=number] { width: 4.5em; }
.zn-panel select, .zn-panel input { font: inherit; }
.zn-panel li { list-style: none; display: flex; gap: 4px; align-items: center; }
.zn-panel ul { padding: 0; margin: 2px 0; }
.zn-overlay { position: absolute; inset: 0; pointer-events: none; overflow: hidden; }
.zn-label { position: absolute; left: 0; top: 0; padding: 0 3px; border-radius: 2px; white-space: nowrap; font-size: 11px;
  background: rgba(255, 0, 170, 0.85); color: #fff; margin: -8px 0 0 4px; }
.zn-colorbar { position: absolute; right: 8px; bottom: 8px; z-index: 1; min-width: 140px; padding: 3px 6px; border-radius: 3px;
  background: var(--zn-bg1); border: 1px solid var(--zn-border); }
.zn-gradient { height: 10px; margin: 2px 0; }
.zn-range { display: flex; justify-content: space-between; font-variant-numeric: tabular-nums; }
.zn-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
.zn-inspect { position: absolute; left: 8px; top: 24px; z-index: 1; max-width: 45%; padding: 3px 6px; border-radius: 3px; pointer-events: none;
  background: var(--zn-bg1); border: 1px solid var(--zn-border); font-variant-numeric: tabular-nums; }
`;

export interface PanelActions {
  set(trait: string, value: unknown): void;
  get(trait: string): unknown;
  /** Keep the selection's measurement. */
  keep(): void;
  /** Remove the kept measurement of ``atoms``. */
  remove(atoms: number[]): void;
  /** The panel was opened: time to offer the frame's properties. */
  opened(): void;
}

/** ``text`` (in a span, for styling) and the ``controls`` it names, on one line: a label
 * (a click on the text goes to the first control), unless the first is a button (a click on
 * the text must press none). */
export function labelled(text: string, ...controls: HTMLElement[]): HTMLElement {
  const line = document.createElement(controls[0]?.tagName === "BUTTON" ? "div" : "label");
  const name = document.createElement("span");
  name.textContent = text;
  line.append(name, ...controls);
  return line;
}

function select(name: string, title: string): HTMLSelectElement {
  const s = document.createElement("select");
  s.dataset.role = name;
  s.setAttribute("aria-label", title);
  return s;
}

function number(name: string, title: string, step = "any"): HTMLInputElement {
  const input = document.createElement("input");
  input.type = "number";
  input.step = step;
  input.dataset.role = name;
  input.setAttribute("aria-label", title);
  return input;
}

function setOptions(s: HTMLSelectElement, options: Array<[string, string]>, value: string): void {
  if (value && !options.some(([v]) => v === value)) options.push([value, value]);
  s.replaceChildren(...options.map(([v, text]) => new Option(text, v, false, v === value)));
  s.value = value;
}

export class AnalysisPanel {
  readonly element = document.createElement("details");
  private colorBy = select("color-by", "Colour the atoms by");
  private colormap = select("colormap", "Colour map");
  private rangeMin = number("color-min", "Lowest value of the colour range (empty: automatic)");
  private rangeMax = number("color-max", "Highest value of the colour range (empty: automatic)");
  private vectors = select("vectors", "Arrows for");
  private scale = number("vector-scale", "Arrow length per unit");
  private vectorColor = document.createElement("input");
  private repeat = [0, 1, 2].map((k) => number(`repeat-${"abc"[k]}`, `Repeat the cell along ${"abc"[k]}`, "1"));
  private wrap = document.createElement("input");
  private list = document.createElement("ul");
  private properties: string[] = [];
  private vectorFields: string[] = [];

  constructor(parent: HTMLElement, colormaps: string[], private readonly actions: PanelActions) {
    const style = document.createElement("style");
    style.textContent = PANEL_CSS;
    this.element.className = "zn-panel";
    this.element.dataset.role = "analysis";
    const summary = document.createElement("summary");
    summary.textContent = "Analysis";
    summary.setAttribute("aria-label", "Show or hide the analysis panel (colour, arrows, cell, measurements)");
    setOptions(this.colormap, colormaps.map((c) => [c, c]), "viridis");
    this.vectorColor.type = "color";
    this.vectorColor.dataset.role = "vector-color";
    this.vectorColor.setAttribute("aria-label", "Arrow colour");
    this.wrap.type = "checkbox";
    this.wrap.dataset.role = "wrap";
    this.wrap.setAttribute("aria-label", "Wrap the atoms into the cell");
    this.repeat.forEach((input) => (input.min = "1"));
    this.rangeMin.placeholder = this.rangeMax.placeholder = "auto";
    const keep = document.createElement("button");
    keep.type = "button";
    keep.textContent = "Keep measurement (m)";
    keep.dataset.role = "keep-measurement";
    keep.setAttribute("aria-label", "Keep the measurement of the 2 to 4 selected atoms");
    keep.onclick = () => actions.keep();
    this.element.append(
      style, summary,
      labelled("Colour", this.colorBy), labelled("map", this.colormap), labelled("range", this.rangeMin, this.rangeMax),
      labelled("Arrows", this.vectors), labelled("scale", this.scale, this.vectorColor),
      labelled("Cells", ...this.repeat), labelled("wrap into cell", this.wrap),
      this.list, keep,
    );
    parent.append(this.element);

    this.element.addEventListener("toggle", () => this.element.open && actions.opened());
    this.colorBy.onchange = () => actions.set("color_by", this.colorBy.value);
    this.colormap.onchange = () => actions.set("colormap", this.colormap.value);
    const range = () => {
      const [a, b] = [this.rangeMin.value, this.rangeMax.value];
      actions.set("color_range", a !== "" && b !== "" ? [Number(a), Number(b)] : []);
    };
    this.rangeMin.onchange = this.rangeMax.onchange = range;
    this.vectors.onchange = () => actions.set("vectors", this.vectors.value);
    this.scale.onchange = () => actions.set("vector_scale", Number(this.scale.value) || 1);
    this.vectorColor.onchange = () => actions.set("vector_color", this.vectorColor.value);
    for (const input of this.repeat) input.onchange = () => actions.set("repeat", this.repeat.map((r) => Math.max(1, Math.floor(Number(r.value) || 1))));
    this.wrap.onchange = () => actions.set("wrap", this.wrap.checked);
    // keys typed in the panel are the panel's, not the viewer's (space, arrows, f, s)
    this.element.addEventListener("keydown", (event) => event.stopPropagation());
    this.sync();
  }

  /** The properties the shown frame has (for colouring) and its N x 3 ones (arrows). */
  offer(properties: string[], vectors: string[]): void {
    this.properties = properties;
    this.vectorFields = vectors;
    this.sync();
  }

  /** Show what the traits say. */
  sync(): void {
    const { get } = this.actions;
    setOptions(this.colorBy, [["", "element"], ...this.properties.map((p): [string, string] => [p, p])], String(get("color_by") ?? ""));
    if (get("colormap")) this.colormap.value = String(get("colormap"));
    const range = get("color_range") as number[] | undefined;
    [this.rangeMin.value, this.rangeMax.value] = Array.isArray(range) && range.length === 2 ? range.map(String) : ["", ""];
    setOptions(this.vectors, [["", "none"], ...this.vectorFields.map((p): [string, string] => [p, p])], String(get("vectors") ?? ""));
    this.scale.value = String(get("vector_scale") ?? 1);
    const color = String(get("vector_color") ?? "");
    this.vectorColor.value = /^#[0-9a-f]{6}$/i.test(color) ? color : DEFAULT_ARROW_COLOR;
    const repeat = get("repeat");
    this.repeat.forEach((input, k) => (input.value = String(Array.isArray(repeat) ? repeat[k] : 1)));
    this.wrap.checked = !!get("wrap");
  }

  /** The measurements' values; those of the ``kept`` groups can be removed, the other is
   * the selection's. */
  showMeasurements(results: Measurement[], kept: number[][]): void {
    this.list.replaceChildren(
      ...results.map((m) => {
        const item = document.createElement("li");
        item.dataset.kind = m.kind;
        item.dataset.value = String(m.value);
        item.append(`${m.atoms.join("–")}: ${formatMeasurement(m)}`);
        if (kept.some((g) => g.join() === m.atoms.join())) {
          const remove = document.createElement("button");
          remove.type = "button";
          remove.textContent = "×";
          remove.setAttribute("aria-label", `Remove the measurement of atoms ${m.atoms.join(", ")}`);
          remove.onclick = () => this.actions.remove(m.atoms);
          item.append(remove);
        }
        return item;
      }),
    );
  }
}
