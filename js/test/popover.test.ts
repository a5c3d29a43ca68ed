// What closes an open popover (the View menu): Escape, a press or the focus outside it.
import { describe, expect, it } from "vitest";
import { dismissal } from "../viewer/popover";

describe("popover dismissal", () => {
  it("closes on Escape, inside or outside, and on no other key", () => {
    expect(dismissal({ type: "keydown", key: "Escape" }, true)).toBe("escape");
    expect(dismissal({ type: "keydown", key: "Escape" }, false)).toBe("escape");
    for (const key of ["Enter", " ", "Tab", "ArrowDown", "f"]) expect(dismissal({ type: "keydown", key }, true)).toBeNull();
  });

  it("closes on a press or the focus outside, not inside", () => {
    expect(dismissal({ type: "pointerdown" }, false)).toBe("outside");
    expect(dismissal({ type: "focusin" }, false)).toBe("outside");
    expect(dismissal({ type: "pointerdown" }, true)).toBeNull();
    expect(dismissal({ type: "focusin" }, true)).toBeNull();
  });
});
