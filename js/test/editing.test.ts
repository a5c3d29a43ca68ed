// Editing parts: shared selections (own vs others, echoes, the last of quick changes),
// undo/redo refusals, their keys, other people's marks.
import { describe, expect, it } from "vitest";
import { ApiError, DataClient } from "../data";
import { MarksLayer } from "../renderer/layers/marks";
import { AtomsLayer } from "../renderer/layers/atoms";
import { commandFor } from "../viewer/keys";
import { History, HistoryAction } from "../viewer/parts/history";
import { personColor, SharedSelections } from "../viewer/parts/selections";
import type { NamedMarks } from "../viewer/parts/legend";
import type { Frame } from "../frames";

function selections() {
  const state = { own: [] as number[][], others: [] as NamedMarks[][], sent: [] as number[][], release: [] as Array<() => void> };
  const shared = new SharedSelections({
    user: () => "ann",
    send: (atoms) => {
      state.sent.push(atoms);
      return new Promise<void>((resolve) => state.release.push(resolve));
    },
    showOwn: (atoms) => state.own.push(atoms),
    showOthers: (groups) => state.others.push(groups),
    failed: () => undefined,
  });
  return { shared, state };
}

const event = (key: string, value: number[] | null) => ({ type: "selection" as const, room: "r", seq: 0, key, value });
const last = <T>(list: T[]): T => list[list.length - 1];
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("SharedSelections", () => {
  it("shows its user's selection as its own and other people's as marks in their colour", () => {
    const { shared, state } = selections();
    shared.joined({ ann: [1, 2], ben: [3], cat: [] });
    expect(state.own).toEqual([[1, 2]]);
    expect(last(state.others)).toEqual([{ user: "ben", color: personColor("ben"), atoms: [3] }]);
    shared.event(event("cat", [4, 5]));
    expect(last(state.others).map((g) => g.atoms)).toEqual([[3], [4, 5]]);
    expect(shared.othersCount).toBe(2);
    shared.event(event("ben", null));
    expect(last(state.others).map((g) => g.atoms)).toEqual([[4, 5]]);
    shared.event(event("ann", [7]));
    expect(last(state.own)).toEqual([7]);
    shared.event(event("ann", [7])); // the same again: nothing to show
    expect(state.own).toHaveLength(2);
  });

  it("shares the view's selection when the room has none of its user yet", () => {
    const { shared, state } = selections();
    shared.joined({ ben: [1] }, [4, 5]);
    expect(state.sent).toEqual([[4, 5]]);
    expect(state.own).toEqual([]);
  });

  it("sends the last of quick changes and ignores its own echoes meanwhile", async () => {
    const { shared, state } = selections();
    shared.share([1]);
    shared.share([1, 2]);
    shared.share([1, 2, 3]);
    expect(state.sent).toEqual([[1]]);
    shared.event(event("ann", [1])); // the echo of the first: not shown over the newer
    expect(state.own).toEqual([]);
    state.release[0]();
    await tick();
    expect(state.sent).toEqual([[1], [1, 2, 3]]);
    state.release[1]();
    await tick();
    shared.share([1, 2, 3]); // unchanged: not sent again
    expect(state.sent).toHaveLength(2);
  });

  it("gives each person one colour, the same everywhere", () => {
    expect(personColor("ben")).toBe(personColor("ben"));
    expect(new Set(["ann", "ben", "cat", "dan"].map(personColor)).size).toBeGreaterThan(1);
  });
});

describe("History", () => {
  async function run(error: Error | null, readOnly = false) {
    const seen = { banners: [] as string[], done: [] as string[], calls: [] as string[] };
    const data = {
      replay: (room: string, action: HistoryAction) => {
        seen.calls.push(`${room} ${action}`);
        return error ? Promise.reject(error) : Promise.resolve({ seq: 1, order_version: 0 });
      },
    } as unknown as DataClient;
    const history = new History({
      room: () => "r", data: () => data, readOnly: () => readOnly, settled: () => Promise.resolve(), who: (s) => `user of ${s}`,
      banner: (text) => seen.banners.push(text), done: (action, outcome) => seen.done.push(`${action} ${outcome}`),
    });
    await history.run("undo");
    return seen;
  }

  it("asks the server and reports the outcome", async () => {
    const seen = await run(null);
    expect(seen).toEqual({ banners: [], done: ["undo ok"], calls: ["r undo"] });
  });

  it("says why the server refused", async () => {
    const conflict = await run(new ApiError(409, "conflict", "frame f1 was changed since by another change"));
    expect(conflict.banners[0]).toMatch(/cannot undo: someone else changed it since/);
    expect(conflict.done).toEqual(["undo conflict"]);
    const locked = await run(new ApiError(423, "locked", "locked", { holder: "s2" }));
    expect(locked.banners[0]).toMatch(/being edited by user of s2/);
    const nothing = await run(new ApiError(404, "not_found", "nothing to undo in room 'r' for this session"));
    expect(nothing.banners[0]).toMatch(/^nothing to undo/);
  });

  it("waits for this view's edit being saved: it is the last change to undo", async () => {
    const calls: string[] = [];
    let saved!: () => void;
    const data = { replay: () => (calls.push("undo"), Promise.resolve({ seq: 1, order_version: 0 })) } as unknown as DataClient;
    const history = new History({
      room: () => "r", data: () => data, readOnly: () => false, who: (s) => s, banner: () => undefined, done: () => undefined,
      settled: () => new Promise<void>((resolve) => (saved = () => (calls.push("saved"), resolve()))),
    });
    const running = history.run("undo");
    await tick();
    expect(calls).toEqual([]);
    saved();
    await running;
    expect(calls).toEqual(["saved", "undo"]);
  });

  it("never asks in a read-only room", async () => {
    const seen = await run(null, true);
    expect(seen.calls).toEqual([]);
    expect(seen.done).toEqual(["undo read_only"]);
  });

  it("runs on Ctrl+Z, and Ctrl+Shift+Z or Ctrl+Y redo", () => {
    const key = (k: string, shiftKey = false) => commandFor({ key: k, shiftKey, ctrlKey: true, metaKey: false });
    expect(key("z")).toBe("undo");
    expect(key("Z", true)).toBe("redo");
    expect(key("z", true)).toBe("redo");
    expect(key("y")).toBe("redo");
    expect(commandFor({ key: "z", shiftKey: false, ctrlKey: false, metaKey: false })).toBeNull();
  });
});

describe("MarksLayer", () => {
  it("draws a shell per marked atom of the frame shown, in the group's colour", () => {
    const atoms = new AtomsLayer();
    const marks = new MarksLayer(atoms);
    const display = Float32Array.from([0, 0, 0, 1, 0, 0, 2, 0, 0]);
    const frame: Frame = { index: 0, id: "f", version: 1, positions: display, display, numbers: Uint8Array.from([6, 8, 1]), cell: null, pbc: null, fields: {}, bytes: 0 };
    const shown = { frame, positions: frame.display };
    atoms.update(shown);
    marks.update(shown);
    expect(marks.count).toBe(0);
    marks.setMarks([{ color: "#ff0000", atoms: [0, 2, 9] }, { color: "#00ff00", atoms: [1] }]);
    expect(marks.count).toBe(3); // atom 9 is not in this frame
    marks.setMarks(Array.from({ length: 40 }, () => ({ color: "blue", atoms: [0, 1, 2] })));
    expect(marks.count).toBe(120);
    marks.dispose();
  });
});
