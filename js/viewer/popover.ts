// A toolbar button that opens a small panel over the view (the disclosure pattern): the
// button says whether the panel is open (aria-expanded) and which it is (aria-controls).
// Opening moves the keyboard focus into the panel; Escape closes it and gives the focus back
// to the button; a press or the focus outside both closes it too. Keys typed in the panel
// are its own (not the viewer's shortcuts). Styled by .zn-popover in ../style.ts.
import { button, icon } from "./controls";

/** Panels made so far (for unique ids: a notebook can show several viewers). */
let made = 0;

/** What an event means to an open popover (``inside``: it happened in the panel or its
 * button): Escape closes it (and, from inside, gives the focus back to the button); a press
 * or a focus outside closes it. */
export function dismissal(event: { type: string; key?: string }, inside: boolean): "escape" | "outside" | null {
  if (event.type === "keydown") return event.key === "Escape" ? "escape" : null;
  if ((event.type === "pointerdown" || event.type === "focusin") && !inside) return "outside";
  return null;
}

/** The events an open popover listens to on its document. */
const DISMISS_EVENTS = ["keydown", "pointerdown", "focusin"] as const;

export class Popover {
  /** The toolbar button (its text, then a caret). */
  readonly button: HTMLButtonElement;
  /** The panel: put the controls in it. */
  readonly panel = document.createElement("div");
  private readonly listener = (event: Event) => this.dismiss(event);

  constructor(text: string, title: string, role: string) {
    this.button = button(text, title, role);
    this.button.insertAdjacentHTML("beforeend", icon("caret"));
    this.panel.id = `zn-popover-${++made}`;
    this.panel.className = "zn-popover";
    this.panel.hidden = true;
    this.panel.setAttribute("role", "group");
    this.panel.setAttribute("aria-label", title);
    this.panel.dataset.role = `${role}-menu`;
    this.button.setAttribute("aria-expanded", "false");
    this.button.setAttribute("aria-controls", this.panel.id);
    this.button.onclick = () => this.toggle();
    this.panel.addEventListener("keydown", (event) => event.stopPropagation());
  }

  get open(): boolean {
    return !this.panel.hidden;
  }

  toggle(open = !this.open): void {
    if (open === this.open) return;
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    // capture: the panel's own key handler must not hide Escape from the popover
    for (const type of DISMISS_EVENTS) {
      if (open) document.addEventListener(type, this.listener, true);
      else document.removeEventListener(type, this.listener, true);
    }
    if (open) this.panel.querySelector<HTMLElement>("select, button, input")?.focus();
  }

  private dismiss(event: Event): void {
    const target = event.target as Node | null;
    const inside = !!target && (this.panel.contains(target) || this.button.contains(target));
    const what = dismissal(event as KeyboardEvent, inside);
    if (!what) return;
    this.toggle(false);
    if (what === "escape" && inside) {
      this.button.focus();
      event.preventDefault();
      event.stopPropagation(); // not the viewer's Escape (clear the selection)
    }
  }
}
