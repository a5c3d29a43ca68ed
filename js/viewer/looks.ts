// The look controls: the ``style`` trait (synced as ``_style``: ipywidgets' front end keeps
// ``style`` for a widget's CSS style model) applied to the view (a bad one keeps the last good
// look and says why in the banner), and the toolbar's "View" menu (a popover): the
// representation and label menus, the orthographic toggle, reset, and the movie button. The
// menus change the trait, so the kernel and every view of the widget follow.
import type { Renderer } from "../renderer";
import { parseStyle, REPRESENTATIONS } from "../renderer/look";
import { ROLES } from "./markers";
import type { ModelListeners } from "./model";
import { button } from "./controls";
import { labelled } from "./panel";
import { menuButton, Popover } from "./popover";

export interface LookHost {
  listeners: ModelListeners;
  renderer: Renderer;
  /** The toolbar (the View menu's button goes at its end). */
  bar: HTMLElement;
  /** Show the look drawn (the ``look`` marker). */
  shown(look: string): void;
  banner(text: string | null): void;
  /** The movie button (absent: no kernel to record one). */
  movie: (() => void) | null;
}

const LABELS = ["element", "index"];

function select(title: string, role: string, options: Array<[string, string]>): HTMLSelectElement {
  const s = document.createElement("select");
  s.title = title;
  s.setAttribute("aria-label", title);
  s.dataset.role = role;
  for (const [value, text] of options) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    s.append(option);
  }
  return s;
}

/** One line of the View menu: what, then its controls (a .zn-row, ../style.ts). */
function row(text: string, ...controls: HTMLElement[]): HTMLElement {
  const line = labelled(text, ...controls);
  line.className = "zn-row";
  return line;
}

export class LookControls {
  readonly representation = select("Representation", ROLES.representation, REPRESENTATIONS.map((r) => [r, r]));
  readonly labels = select("Labels", ROLES.labels, [["", "no labels"], ...LABELS.map((l): [string, string] => [l, `${l} labels`])]);
  readonly ortho = button("Orthographic", "Orthographic projection", ROLES.orthographic);

  constructor(private readonly host: LookHost) {
    const { renderer, bar } = host;
    const reset = button("Reset camera", "Reset the camera", ROLES.reset);
    const title = `View: representation, labels, camera${host.movie ? ", movie" : ""}`;
    const { panel } = new Popover(menuButton("View", title, ROLES.view)).mount(bar);
    panel.append(row("Representation", this.representation), row("Labels", this.labels), row("Camera", this.ortho, reset));
    if (host.movie) {
      const movie = button("Record", "Record a movie of all frames (the kernel saves it)", ROLES.movie);
      movie.onclick = host.movie;
      panel.append(row("Movie", movie));
    }
    this.representation.onchange = () => this.change({ representation: this.representation.value });
    this.labels.onchange = () => this.change({ labels: this.labels.value ? { ...(this.style().labels as object), text: this.labels.value } : null });
    this.ortho.onclick = () => {
      renderer.rig.setOrthographic(!renderer.rig.isOrthographic);
      this.showCamera();
      renderer.requestRender();
    };
    reset.onclick = () => renderer.fit(true);
    host.listeners.on("change:_style", () => this.apply());
    host.listeners.on("change:camera", () => this.showCamera());
    this.apply();
    this.showCamera();
  }

  private style(): Record<string, unknown> {
    return (this.host.listeners.model.get("_style") as Record<string, unknown> | null) ?? {};
  }

  /** Change keys of the trait (the kernel checks it; every view of the widget follows). */
  private change(keys: Record<string, unknown>): void {
    const { model } = this.host.listeners;
    model.set("_style", { ...this.style(), ...keys });
    model.save_changes();
    this.apply();
  }

  /** Draw as the trait says, and show it in the menus. */
  private apply(): void {
    try {
      const style = parseStyle(this.style());
      const { renderer } = this.host;
      renderer.setStyle(style);
      this.host.shown(`${style.representation}/${renderer.look.version}`);
      this.representation.value = style.representation;
      this.labels.value = style.labels && LABELS.includes(style.labels.text) ? style.labels.text : "";
    } catch (error) {
      this.host.banner(`style not applied: ${(error as Error).message}`);
    }
  }

  private showCamera(): void {
    this.ortho.setAttribute("aria-pressed", String(this.host.renderer.rig.isOrthographic));
  }
}
