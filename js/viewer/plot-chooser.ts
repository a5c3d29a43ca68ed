// The chooser of property plots: a toolbar button opening a list of the room's per-frame
// numbers (asked of the server when it opens) to tick, and what to plot them against.
import { button } from "./controls";

/** Its CSS (in the plots' style element: the list is empty until opened). */
export const CHOOSER_CSS = `
.zn-plot-menu { display: none; position: absolute; right: 6px; bottom: 36px; z-index: 2; max-height: 60%; overflow: auto; padding: 6px 10px;
  background: var(--zn-bg1, #f7f7f7); border: 1px solid var(--zn-border, #ddd); border-radius: 3px; box-shadow: 0 2px 6px #0003; }
.zn-plot-menu.zn-show { display: block; }
.zn-plot-menu label { display: block; white-space: nowrap; }
.zn-plot-menu select { margin: 4px 0 0 4px; }
`;

export interface ChooserHost {
  /** The room's fields with one number per frame. */
  fields(): Promise<string[]>;
  /** The user chose ``names`` plotted against ``x`` ("": the frame index). */
  chosen(names: string[], x: string): void;
}

export class PlotChooser {
  /** The toolbar button that opens the chooser. */
  readonly button = button("Plots", "Choose properties to plot against the frames", "plots");
  /** The list: one checkbox per property, and the select of what to plot against. */
  readonly menu = document.createElement("div");
  private available: string[] = [];
  private names: string[] = [];
  private x = "";

  constructor(private readonly host: ChooserHost) {
    this.button.setAttribute("aria-expanded", "false");
    this.button.onclick = () => void this.toggle();
    this.menu.className = "zn-plot-menu";
    this.menu.setAttribute("role", "group");
    this.menu.setAttribute("aria-label", "Properties to plot");
  }

  /** What is plotted now (ticked in the list). */
  show(names: string[], x: string): void {
    this.names = names;
    this.x = x;
    this.sync();
  }

  /** Another room: its fields are asked for again. */
  forget(): void {
    this.available = [];
  }

  private async toggle(): Promise<void> {
    const open = !this.menu.classList.contains("zn-show");
    this.menu.classList.toggle("zn-show", open);
    this.button.setAttribute("aria-expanded", String(open));
    if (!open) return;
    try {
      this.available = await this.host.fields();
    } catch (error) {
      this.menu.textContent = `cannot list the room's fields: ${(error as Error).message}`;
      return;
    }
    this.sync();
  }

  /** The checkboxes and the x select, from what the room has and what is shown. */
  private sync(): void {
    if (!this.menu.classList.contains("zn-show")) return;
    const names = [...new Set([...this.available, ...this.names])];
    this.menu.replaceChildren();
    if (!names.length) {
      this.menu.textContent = "The frames carry no per-frame numbers (calc.energy, info.*) to plot.";
      return;
    }
    for (const name of names) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = this.names.includes(name);
      box.value = name;
      box.setAttribute("aria-label", `plot ${name}`);
      box.onchange = () => this.host.chosen(box.checked ? [...this.names, name] : this.names.filter((n) => n !== name), this.x);
      label.append(box, ` ${name}`);
      this.menu.append(label);
    }
    const against = document.createElement("select");
    against.setAttribute("aria-label", "Plot against");
    against.title = "Plot against";
    for (const name of ["", ...names]) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name || "frame";
      option.selected = name === this.x;
      against.append(option);
    }
    against.onchange = () => this.host.chosen(this.names, against.value);
    const label = document.createElement("label");
    label.append("against", against);
    this.menu.append(label);
  }
}
