// Click to select an atom (Shift/Ctrl/Cmd: add or remove it); a click on nothing clears the
// selection; a press that moved is a rotation of the view, not a click.
import type { Renderer } from "../../renderer";
import type { PointerInput, Tool } from "./tool";

/** How far (px) a press may move and still be a click. */
const CLICK_SLOP = 4;

export interface SelectHost {
  renderer: Renderer;
  selection(): number[];
  select(selection: number[]): void;
}

export class SelectTool implements Tool {
  private start: { x: number; y: number } | null = null;

  constructor(private readonly host: SelectHost) {}

  down(input: PointerInput): boolean {
    this.start = { x: input.x, y: input.y };
    return true;
  }

  move(): void {}

  up({ x, y, extend }: PointerInput): void {
    const start = this.start;
    this.start = null;
    if (!start || Math.hypot(x - start.x, y - start.y) > CLICK_SLOP) return;
    const atom = this.host.renderer.pick(x, y);
    let selection = [...this.host.selection()];
    if (extend) {
      if (atom === null) return;
      selection = selection.includes(atom) ? selection.filter((i) => i !== atom) : [...selection, atom];
    } else {
      selection = atom === null ? [] : [atom];
    }
    this.host.select(selection);
  }
}
