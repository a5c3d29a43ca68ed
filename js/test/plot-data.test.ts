// The property plots' numbers: which fields can be plotted, one paged read of only those
// fields for the whole room, re-reads on change, and picking the frame nearest a click.
import { describe, expect, it } from "vitest";
import { NDArray } from "../codec";
import type { ReadResponse } from "../frames";
import { nearest, numbersOf, PlotData, plottable, sortedBy } from "../viewer/plot-data";

/** A fake room whose frame i has energy -i (none at multiples of 5) and step i (int64). */
function room(length: () => number) {
  const reads: { index: string; fields: string[] }[] = [];
  let offset = 0;
  const read = async (index: string, fields: string[]): Promise<ReadResponse> => {
    reads.push({ index, fields });
    const indices = index.includes(":")
      ? Array.from({ length: Math.min(length(), Number(index.split(":")[1])) - Number(index.split(":")[0]) }, (_, k) => Number(index.split(":")[0]) + k)
      : index.split(",").map(Number);
    const n = indices.length;
    const data: ReadResponse["data"] = {};
    if (fields.includes("calc.energy?")) {
      data["calc.energy"] = {
        values: new NDArray("<f8", [n], Float64Array.from(indices, (i) => -i + offset)),
        present: new NDArray("|b1", [n], Uint8Array.from(indices, (i) => (i % 5 ? 1 : 0))),
      };
    }
    if (fields.includes("info.step?")) data["info.step"] = { values: new NDArray("<i8", [n], BigInt64Array.from(indices, BigInt)) };
    return {
      length: length(), seq: 1, order_version: 1, ids: [], hashes: [], data,
      indices: new NDArray("<i8", [n], BigInt64Array.from(indices, BigInt)),
      versions: new NDArray("<i8", [n], new BigInt64Array(n)),
    };
  };
  return { read, reads, shift: (by: number) => (offset = by) };
}

describe("plot data", () => {
  it("lists the fields with one number per frame", () => {
    expect(plottable({
      "calc.energy": { dtype: "<f8", shape: [] }, "info.step": { dtype: "<i8", shape: [] },
      "calc.forces": { dtype: "<f8", shape: [4, 3] }, "info.label": { dtype: null, shape: [] },
      positions: { dtype: "<f8", shape: [4, 3] },
    })).toEqual(["calc.energy", "info.step"]);
  });

  it("reads only the chosen fields of every frame, a page per request, NaN where missing", async () => {
    const fake = room(() => 25);
    const data = new PlotData(fake.read, 10);
    await data.load(["calc.energy", "info.step"], 25);
    expect(fake.reads.map((r) => r.index)).toEqual(["0:10", "10:20", "20:25"]);
    expect(fake.reads[0].fields).toEqual(["calc.energy?", "info.step?"]);
    const energy = data.values.get("calc.energy")!;
    expect(energy.length).toBe(25);
    expect(Number.isNaN(energy[0]) && Number.isNaN(energy[20])).toBe(true);
    expect(energy[7]).toBe(-7);
    expect(Array.from(data.values.get("info.step")!.subarray(20))).toEqual([20, 21, 22, 23, 24]);
  });

  it("re-reads the frames that changed by index, and everything when frames were added", async () => {
    let length = 12;
    const fake = room(() => length);
    const data = new PlotData(fake.read, 100);
    await data.load(["calc.energy"], 12);
    fake.shift(100);
    await data.refresh(new Set([3, 4]));
    expect(fake.reads[fake.reads.length - 1].index).toBe("3,4");
    expect(data.values.get("calc.energy")![3]).toBe(97);
    expect(data.values.get("calc.energy")![6]).toBe(-6); // not re-read
    length = 14;
    await data.refresh(null, 14);
    expect(fake.reads[fake.reads.length - 1].index).toBe("0:14");
    expect(data.values.get("calc.energy")![13]).toBe(87);
  });

  it("merges changes that arrive during a read into one more read", async () => {
    const fake = room(() => 30);
    const data = new PlotData(fake.read, 100);
    await data.load(["calc.energy"], 30);
    const before = fake.reads.length;
    const first = data.refresh(new Set([1]));
    void data.refresh(new Set([2]));
    void data.refresh(new Set([3]));
    await first;
    await data.refresh(new Set());
    expect(fake.reads.slice(before).map((r) => r.index)).toEqual(["1", "2,3"]);
  });

  it("a new choice of fields drops a read of the old ones still in flight", async () => {
    const fake = room(() => 10);
    const data = new PlotData(fake.read, 100);
    const old = data.load(["info.step"], 10);
    const fresh = data.load(["calc.energy"], 10);
    await Promise.all([old, fresh]);
    expect([...data.values.keys()]).toEqual(["calc.energy"]);
  });

  it("converts int64 and marks absent values", () => {
    const column = { values: new NDArray("<i8", [3], BigInt64Array.from([1n, 2n, 3n])), present: new NDArray("|b1", [3], Uint8Array.from([1, 0, 1])) };
    expect(Array.from(numbersOf(column, 3))).toEqual([1, NaN, 3]);
    expect(Array.from(numbersOf(undefined, 2))).toEqual([NaN, NaN]);
  });

  it("sorts points by another property and finds the point nearest a click", () => {
    const x = Float64Array.from([3, NaN, 1, 2]);
    const sorted = sortedBy(x, [Float64Array.from([30, 10, NaN, 20])]);
    expect(sorted.x).toEqual([1, 2, 3]);
    expect(Array.from(sorted.frames)).toEqual([2, 3, 0]);
    expect(sorted.ys[0]).toEqual([null, 20, 30]);
    expect(nearest([0, 1, 2, 10], 6.1)).toBe(3);
    expect(nearest([0, 1, 2, 10], 5.9)).toBe(2);
    expect(nearest([0, 1, 2, 10], -4)).toBe(0);
    expect(nearest([], 1)).toBe(-1);
  });
});
