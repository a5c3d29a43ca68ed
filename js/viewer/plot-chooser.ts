// The chooser of property plots: a toolbar button opening (a popover) a list of the room's per-frame
// numbers (asked of the server when it opens) to tick, and what to plot them against.
import { menuButton, Popover } from "./popover";

/** Its CSS (in the plots' style element; the panel is a .zn-popover, ../style.ts). */
export const CHOOSER_CSS = `
.zn-plot-menu { max-height: min(60vh, 320px); overflow: auto; }
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
  /** The toolbar button and its panel: one checkbox per property, and the select of what
   * to plot against. */
  readonly popover = new Popover(menuButton("Plots", "Choose properties to plot against the frames", "plots"), undefined, () => void this.load());
  private available: string[] = [];
  private names: string[] = [];
  private x = "";
  /** The properties the panel lists now (null: it lists none, it says why instead). */
  private listed: string[] | null = null;

  constructor(private readonly host: ChooserHost) {
    this.menu.classList.add("zn-plot-menu");
  }

  private get menu(): HTMLElement {
    return this.popover.panel;
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

  /** The chooser was opened: ask the room for its fields. */
  private async load(): Promise<void> {
    try {
      this.available = await this.host.fields();
    } catch (error) {
      this.say(`cannot list the room's fields: ${(error as Error).message}`);
      return;
    }
    this.sync();
    if (document.activeElement === this.popover.button) this.popover.focusFirst();
  }

  /** The panel lists what the room has and what is shown, ticked as shown; it is built
   * again only when that list changed (else a tick would replace the box ticked). */
  private sync(): void {
    if (!this.popover.open) return;
    const names = [...new Set([...this.available, ...this.names])];
    if (!names.length) return this.say("The frames carry no per-frame numbers (calc.energy, info.*) to plot.");
    if (this.listed?.join("\n") !== names.join("\n")) this.build(names);
    for (const box of this.menu.querySelectorAll<HTMLInputElement>("input[type=checkbox]")) box.checked = this.names.includes(box.value);
    const against = this.menu.querySelector("select");
    if (against) against.value = names.includes(this.x) ? this.x : "";
  }

  /** A text in place of the list. */
  private say(text: string): void {
    this.listed = null;
    this.menu.textContent = text;
  }

  /** The checkboxes of ``names`` and the x select (the control with the keyboard focus
   * keeps it in the new list). */
  private build(names: string[]): void {
    const focused = this.menu.contains(document.activeElement) ? document.activeElement?.getAttribute("aria-label") : null;
    this.listed = names;
    this.menu.replaceChildren();
    for (const name of names) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      box.setAttribute("aria-label", `plot ${name}`);
      box.onchange = () => this.host.chosen(box.checked ? [...this.names, name] : this.names.filter((n) => n !== name), this.x);
      label.append(box, ` ${name}`);
      this.menu.append(label);
    }
    const against = document.createElement("select");
    against.setAttribute("aria-label", "Plot against");
    against.title = "Plot against";
    for (const name of ["", ...names]) against.append(new Option(name || "frame", name));
    against.onchange = () => this.host.chosen(this.names, against.value);
    const label = document.createElement("label");
    label.append("against", against);
    this.menu.append(label);
    if (focused) [...this.menu.querySelectorAll<HTMLElement>("[aria-label]")].find((el) => el.getAttribute("aria-label") === focused)?.focus();
  }
}
