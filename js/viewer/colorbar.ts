// The colour bar of a colouring by property: the map's gradient with its range, or the
// labels' colours (categorical), at the view's bottom right.
import { formatNumber } from "../properties";
import { categoryHex, colormapHex, type ColorKey } from "../renderer/coloring";

/** Labels shown at most (categorical). */
const MAX_LABELS = 20;

export class ColorBar {
  readonly element = document.createElement("div");
  private shown = "";

  constructor(parent: HTMLElement) {
    this.element.className = "zn-colorbar";
    this.element.dataset.role = "colorbar";
    this.element.hidden = true;
    parent.append(this.element);
  }

  /** Show ``key`` (null: hide the bar). */
  show(key: ColorKey | null): void {
    const text = JSON.stringify(key);
    if (text === this.shown) return; // unchanged: no DOM work while playing
    this.shown = text;
    this.element.hidden = !key;
    this.element.replaceChildren();
    if (!key) return;
    const title = document.createElement("div");
    title.textContent = key.property;
    this.element.append(title);
    if (key.kind === "continuous") {
      const gradient = document.createElement("div");
      gradient.className = "zn-gradient";
      gradient.style.background = `linear-gradient(to right, ${colormapHex(key.colormap, 16).join(", ")})`;
      const range = document.createElement("div");
      range.className = "zn-range";
      range.innerHTML = "<span></span><span></span>";
      range.children[0].textContent = formatNumber(key.min);
      range.children[1].textContent = formatNumber(key.max);
      this.element.dataset.min = String(key.min);
      this.element.dataset.max = String(key.max);
      this.element.append(gradient, range);
    } else {
      for (const label of key.labels.slice(0, MAX_LABELS)) {
        const row = document.createElement("div");
        row.innerHTML = `<i class="zn-swatch"></i><span></span>`;
        (row.firstChild as HTMLElement).style.background = categoryHex(label);
        row.lastChild!.textContent = String(label);
        this.element.append(row);
      }
      if (key.labels.length > MAX_LABELS) this.element.append(`… ${key.labels.length - MAX_LABELS} more`);
    }
  }
}
