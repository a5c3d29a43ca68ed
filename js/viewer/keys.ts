// The viewer's keys: a table from key (and modifiers) to command.

export type Command =
  | "togglePlay"
  | "next"
  | "previous"
  | "next10"
  | "previous10"
  | "first"
  | "last"
  | "fit"
  | "screenshot"
  | "clearSelection"
  | "selectAll"
  | "undo"
  | "redo"
  | "keepMeasurement";

interface Binding {
  key: string;
  /** Shift must be held (true), must not be (false), or either (absent). */
  shift?: boolean;
  /** Ctrl or Cmd must be held. */
  mod?: true;
  command: Command;
}

/** First match wins. */
const BINDINGS: Binding[] = [
  { key: " ", command: "togglePlay" },
  { key: "ArrowRight", shift: true, command: "next10" },
  { key: "ArrowRight", command: "next" },
  { key: "ArrowLeft", shift: true, command: "previous10" },
  { key: "ArrowLeft", command: "previous" },
  { key: "Home", command: "first" },
  { key: "End", command: "last" },
  { key: "f", command: "fit" },
  { key: "s", command: "screenshot" },
  { key: "Escape", command: "clearSelection" },
  { key: "a", mod: true, command: "selectAll" },
  // With Shift held the key reads "Z" (or "z" where Caps Lock is on).
  { key: "z", mod: true, shift: false, command: "undo" },
  { key: "z", mod: true, shift: true, command: "redo" },
  { key: "Z", mod: true, shift: true, command: "redo" },
  { key: "y", mod: true, command: "redo" },
  { key: "m", command: "keepMeasurement" },
];

export interface KeyInput {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

/** The command of a key press (null: not the viewer's). */
export function commandFor(e: KeyInput): Command | null {
  const binding = BINDINGS.find(
    (b) => b.key === e.key && (b.shift === undefined || b.shift === e.shiftKey) && (!b.mod || e.ctrlKey || e.metaKey),
  );
  return binding?.command ?? null;
}

/** The keys an element with the keyboard focus handles itself, by its tag: a form field all
 * (typing, arrows, space), a button (or a details' summary) Space and Enter (they press it);
 * a slider all but Space (it moves by arrows and Home/End, and does nothing with Space, which
 * plays and pauses as everywhere in the viewer). */
const OWN_KEYS: Record<string, "all" | string[]> = {
  INPUT: "all",
  SELECT: "all",
  TEXTAREA: "all",
  BUTTON: [" ", "Enter"],
  SUMMARY: [" ", "Enter"],
};

/** Whether ``key`` pressed with the focus on ``target`` is the target's own, not the viewer's. */
export function ownKey(target: { tagName?: string; type?: string } | null, key: string): boolean {
  if (target?.tagName === "INPUT" && target.type === "range") return key !== " ";
  const own = OWN_KEYS[target?.tagName ?? ""];
  return own === "all" || !!own?.includes(key);
}

/** Run the commands of the keys pressed in ``root``, but for the keys its focused control
 * handles itself (``ownKey``). */
export function bindKeys(root: HTMLElement, run: (command: Command) => void): void {
  root.addEventListener("keydown", (e) => {
    if (ownKey(e.target as Element | null, e.key)) return;
    const command = commandFor(e);
    if (!command) return;
    run(command);
    e.preventDefault();
    e.stopPropagation();
  });
}
