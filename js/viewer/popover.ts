// A toolbar button that opens a small panel over the view (the disclosure pattern): the
// button says whether the panel is open (aria-expanded) and which it is (aria-controls).
// Opening moves the keyboard focus into the panel; Escape closes it and gives the focus back
// to the button; a press or the focus outside both closes it too (so one is open at a time).
// Keys typed in the panel are its own (not the viewer's shortcuts). Styled by .zn-popover
// in ../style.ts; ``mount`` puts the panel right after its button in the toolbar.
import { button } from "./controls";

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

/** A caret (pointing up, where the panel opens), narrow to spare the toolbar's width. */
const CARET = `<svg viewBox="6 8 12 7" width="8" height="5" aria-hidden="true"><path fill="currentColor" d="M7 14l5-5 5 5z"/></svg>`;

/** A toolbar button for a menu: ``text`` and a caret. */
export function menuButton(text: string, title: string, role: string): HTMLButtonElement {
  const b = button(text, title, role);
  b.insertAdjacentHTML("beforeend", CARET);
  return b;
}

export class Popover {
  private readonly listener = (event: Event) => this.dismiss(event);

  /** ``button`` opens ``panel`` (named as the button; its data-role, if it has none, the
   * button's with "-menu"); ``opened`` is called each time it opens (to fill it). */
  constructor(readonly button: HTMLButtonElement, readonly panel: HTMLElement = document.createElement("div"), private readonly opened?: () => void) {
    panel.id ||= `zn-popover-${++made}`;
    panel.classList.add("zn-popover");
    panel.hidden = true;
    panel.tabIndex = -1; // a press on its text focuses it, not the viewer (outside: it would close)
    panel.setAttribute("role", "group");
    panel.setAttribute("aria-label", button.getAttribute("aria-label") ?? "");
    panel.dataset.role ||= `${button.dataset.role}-menu`;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", panel.id);
    button.onclick = () => this.toggle();
    panel.addEventListener("keydown", (event) => event.stopPropagation());
  }

  /** Put the button into the toolbar ``bar`` before ``before`` (null: at its end), and the
   * panel right after the button (the next stop for Tab; placed by .zn-popover). */
  mount(bar: HTMLElement, before: Node | null = null): this {
    bar.insertBefore(this.button, before);
    this.button.after(this.panel);
    return this;
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
    if (!open) return;
    this.opened?.();
    this.focusFirst();
  }

  /** Put the keyboard focus on the panel's first control (if it has one yet). */
  focusFirst(): void {
    this.panel.querySelector<HTMLElement>("select, button, input")?.focus();
  }

  private dismiss(event: Event): void {
    if (!this.panel.isConnected) return this.toggle(false); // the view closed while open
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
