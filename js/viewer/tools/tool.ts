// Pointer tools on the canvas: the first tool whose ``down`` claims a press gets its moves
// and its release. Select and drag-edit now; measuring tools later.

/** A pointer event in canvas coordinates (CSS pixels from the canvas' top left). */
export interface PointerInput {
  x: number;
  y: number;
  /** Shift, Ctrl or Cmd held: add to (or toggle in) the selection. */
  extend: boolean;
  /** Alt held, or the R key: a drag rotates the selection instead of moving it. */
  rotate: boolean;
  event: PointerEvent;
}

export interface Tool {
  /** A primary-button press: true to take this gesture (its moves and release). */
  down(input: PointerInput): boolean;
  move(input: PointerInput): void;
  up(input: PointerInput): void;
}

/** Route the canvas' pointer events to ``tools`` (in order of precedence); a press also
 * focuses ``root`` so that the keys work. */
export function bindTools(canvas: HTMLCanvasElement, root: HTMLElement, tools: Tool[]): void {
  let active: Tool | null = null;
  let rKey = false;
  root.addEventListener("keydown", (event) => {
    if ((event.key === "r" || event.key === "R") && !event.ctrlKey && !event.metaKey && !event.altKey) {
      rKey = true;
      event.stopPropagation(); // the viewer's key (in a notebook, R would make the cell raw)
    }
  });
  root.addEventListener("keyup", (event) => {
    if (event.key === "r" || event.key === "R") rKey = false;
  });
  root.addEventListener("blur", () => (rKey = false));
  const input = (event: PointerEvent): PointerInput => {
    const rect = canvas.getBoundingClientRect();
    return {
      x: event.clientX - rect.left,
      y: event.clientY - rect.top,
      extend: event.shiftKey || event.ctrlKey || event.metaKey,
      rotate: event.altKey || rKey,
      event,
    };
  };
  canvas.addEventListener("pointerdown", (event) => {
    root.focus({ preventScroll: true });
    if (event.button !== 0) return;
    const at = input(event);
    active = tools.find((tool) => tool.down(at)) ?? null;
  });
  canvas.addEventListener("pointermove", (event) => active?.move(input(event)));
  canvas.addEventListener("pointerup", (event) => {
    const tool = active;
    active = null;
    tool?.up(input(event));
  });
}
