// Hover (or a click) on an atom: a card with its index, element, position and every per-atom
// value of the shown frame. The frame's other fields are read once per frame version, only
// when an atom is inspected (playback reads only what it draws).
import { SYMBOLS } from "../elements";
import type { Frame } from "../frames";
import { atomValues } from "../properties";
import type { Renderer } from "../renderer";

export interface InspectorHost {
  renderer: Renderer;
  /** The frame on screen. */
  frame(): Frame | null;
  /** The frame with all its fields (read once per version). */
  full(frame: Frame): Promise<Frame>;
  /** The atoms selected (the card shows the last one when nothing is hovered). */
  selection(): number[];
  /** While playing, the card shows only what the frames read for drawing carry. */
  playing(): boolean;
}

export class Inspector {
  readonly card = document.createElement("div");
  private hovered: number | null = null;
  private pending = 0;
  private token = 0;

  constructor(private readonly host: InspectorHost, parent: HTMLElement) {
    this.card.className = "zn-inspect";
    this.card.dataset.role = "inspect";
    this.card.hidden = true;
    parent.append(this.card);
    const canvas = host.renderer.canvas;
    canvas.addEventListener("pointermove", (event) => {
      if (event.buttons) return; // rotating or dragging
      const rect = canvas.getBoundingClientRect();
      const x = event.clientX - rect.left, y = event.clientY - rect.top;
      if (this.pending) cancelAnimationFrame(this.pending);
      // at most one pick per animation frame
      this.pending = requestAnimationFrame(() => {
        this.pending = 0;
        this.hover(host.renderer.pick(x, y));
      });
    });
    canvas.addEventListener("pointerleave", () => this.hover(null));
  }

  private hover(atom: number | null): void {
    if (atom === this.hovered) return;
    this.hovered = atom;
    this.refresh();
  }

  /** Show the hovered atom, else the last selected one, on the frame on screen. */
  refresh(): void {
    const frame = this.host.frame();
    const selection = this.host.selection();
    const atom = this.hovered ?? (selection.length ? selection[selection.length - 1] : null);
    const token = ++this.token;
    if (!frame || atom === null || atom >= frame.numbers.length) {
      this.card.hidden = true;
      return;
    }
    this.render(frame, atom, null);
    if (this.host.playing()) return;
    void this.host.full(frame).then(
      (full) => token === this.token && this.render(full, atom, null),
      (error) => token === this.token && this.render(frame, atom, (error as Error).message),
    );
  }

  private render(frame: Frame, atom: number, problem: string | null): void {
    const p = frame.positions;
    const rows: Array<[string, string]> = [
      ["atom", `${atom} ${SYMBOLS[frame.numbers[atom]] ?? "?"}`],
      ["position", [p[3 * atom], p[3 * atom + 1], p[3 * atom + 2]].map((v) => v.toFixed(3)).join(", ")],
      ...atomValues(frame, atom),
    ];
    if (problem) rows.push(["", `(other values unavailable: ${problem})`]);
    this.card.replaceChildren(
      ...rows.map(([name, value]) => {
        const row = document.createElement("div");
        const key = document.createElement("b");
        key.textContent = name;
        row.append(key, " ", value);
        return row;
      }),
    );
    this.card.dataset.atom = String(atom);
    this.card.hidden = false;
  }
}
