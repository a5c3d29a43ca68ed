// The style schema: defaults, checks naming the bad key, what each atom looks like, bonds.
import { describe, expect, it } from "vitest";
import type { Frame } from "../frames";
import { AtomsLayer } from "../renderer/layers/atoms";
import { BondsLayer } from "../renderer/layers/bonds";
import { formatNumber, labelledAtoms, labelTexts } from "../renderer/layers/labels";
import { LinesLayer } from "../renderer/layers/lines";
import { NDArray } from "../codec";
import {
  atomRadius,
  BondKind,
  bondKind,
  DEFAULT_STYLE,
  HIDDEN,
  Look,
  parseStyle,
  REP_CODE,
  resolveLooks,
  StyleError,
} from "../renderer/look";

const WATER = [0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0];

function frame(positions: number[], numbers: number[], fields: Frame["fields"] = {}): Frame {
  const display = Float32Array.from(positions);
  return { index: 0, id: "f", version: 1, positions: display, display, numbers: Uint8Array.from(numbers), cell: null, pbc: null, fields, bytes: 0 };
}

describe("parseStyle", () => {
  it("fills in the defaults", () => {
    expect(parseStyle({})).toEqual(DEFAULT_STYLE);
    expect(parseStyle(null)).toEqual(DEFAULT_STYLE);
    expect(parseStyle({ representation: "spacefill", labels: { text: "index" } })).toMatchObject({
      representation: "spacefill",
      labels: { text: "index", atoms: "all", size: 14 },
    });
  });

  it.each([
    [{ represention: "spacefill" }, /style: unknown key "represention"/],
    [{ representation: "cartoon" }, /style.representation: "cartoon" is no representation/],
    [{ atom_scale: 0 }, /style.atom_scale/],
    [{ bonds: "yes" }, /style.bonds/],
    [{ groups: [{ representation: "lines" }] }, /style.groups\[0\]: needs "atoms" or "elements"/],
    [{ groups: [{ atoms: [1, -2] }] }, /style.groups\[0\].atoms/],
    [{ groups: [{ elements: ["Xx"] }] }, /style.groups\[0\].elements/],
    [{ groups: [{ atoms: [1], colour: "red" }] }, /style.groups\[0\]: unknown key "colour"/],
    [{ labels: { text: "index", size: 1 } }, /style.labels.size/],
  ])("refuses %j", (value, message) => {
    expect(() => parseStyle(value)).toThrow(StyleError);
    expect(() => parseStyle(value)).toThrow(message);
  });
});

describe("resolveLooks", () => {
  it("applies groups in order, by index, element or the selection", () => {
    const style = parseStyle({
      representation: "spacefill",
      groups: [
        { atoms: [0, 1], representation: "ball-and-stick", atom_scale: 2 },
        { elements: ["H"], hidden: true },
        { atoms: "selection", representation: "lines" },
      ],
    });
    const looks = resolveLooks(style, [8, 1, 1, 6, 6], new Set([4]));
    expect(Array.from(looks.rep)).toEqual([REP_CODE["ball-and-stick"], HIDDEN, HIDDEN, REP_CODE.spacefill, REP_CODE.lines]);
    expect(Array.from(looks.atomScale)).toEqual([2, 2, 1, 1, 1]);
  });

  it("sizes atoms per representation, hidden ones not at all", () => {
    expect(atomRadius(REP_CODE.spacefill, 1, 1, 1)).toBeGreaterThan(atomRadius(REP_CODE["ball-and-stick"], 1, 1, 1));
    expect(atomRadius(REP_CODE["ball-and-stick"], 1, 2, 1)).toBe(2 * atomRadius(REP_CODE["ball-and-stick"], 1, 1, 1));
    expect(atomRadius(HIDDEN, 1, 1, 1)).toBe(0);
  });

  it("draws a bond as the weaker of its atoms' representations", () => {
    const [bs, sf, lic, lines] = [0, 1, 2, 3];
    expect(bondKind(bs, lic, true)).toBe(BondKind.Stick);
    expect(bondKind(bs, lines, true)).toBe(BondKind.Line);
    expect(bondKind(bs, sf, true)).toBe(BondKind.None);
    expect(bondKind(bs, HIDDEN, true)).toBe(BondKind.None);
    expect(bondKind(bs, bs, false)).toBe(BondKind.None);
  });

  it("changes its version only when the selection matters", () => {
    const look = new Look();
    const v = look.version;
    expect(look.setSelection(new Set([1]))).toBe(false);
    look.setStyle(parseStyle({ groups: [{ atoms: "selection", hidden: true }] }));
    expect(look.setSelection(new Set([2]))).toBe(true);
    expect(look.version).toBe(v + 2);
    expect(Array.from(look.looks([8, 1, 1]).rep)).toEqual([0, 0, HIDDEN]);
  });
});

describe("layers under a style", () => {
  function draw(style: object) {
    const look = new Look();
    look.setStyle(parseStyle(style));
    const atoms = new AtomsLayer(look), bonds = new BondsLayer(atoms, look), lines = new LinesLayer(atoms, bonds);
    const water = frame(WATER, [8, 1, 1]);
    for (const layer of [atoms, bonds, lines]) layer.update({ frame: water, positions: water.display });
    return { atoms, bonds, lines, look, water };
  }

  it("ball-and-stick: two sticks; lines: two lines; spacefill or no bonds: none", () => {
    expect([draw({}).bonds.count, draw({}).lines.count]).toEqual([2, 0]);
    expect([draw({ representation: "lines" }).bonds.count, draw({ representation: "lines" }).lines.count]).toEqual([0, 2]);
    expect(draw({ representation: "spacefill" }).bonds.count).toBe(0);
    expect(draw({ bonds: false }).bonds.count).toBe(0);
  });

  it("restyles the same frame when the style changes", () => {
    const { atoms, bonds, look, water } = draw({});
    const before = atoms.radii[0];
    look.setStyle(parseStyle({ groups: [{ elements: ["H"], hidden: true }] }));
    atoms.update({ frame: water, positions: water.display });
    bonds.update({ frame: water, positions: water.display });
    expect(atoms.radii[0]).toBe(before);
    expect(Array.from(atoms.radii.subarray(1))).toEqual([0, 0]);
    expect(bonds.count).toBe(0);
  });
});

describe("labels", () => {
  it("texts: element, index, a per-atom array", () => {
    const charges = new NDArray("<f8", [3], Float64Array.from([-0.8, 0.4, 0.4]));
    const water = frame(WATER, [8, 1, 1], { "arrays.charges": charges });
    const text = (name: string) => labelTexts({ text: name, atoms: "all", size: 14 }, water);
    expect([0, 1].map(text("element")!)).toEqual(["O", "H"]);
    expect([2].map(text("index")!)).toEqual(["2"]);
    expect([0].map(text("charges")!)).toEqual(["-0.8"]);
    expect(text("arrays.missing")).toBeNull();
    expect(formatNumber(1 / 3)).toBe("0.333");
  });

  it("atoms: all, the selection (sorted) or a list, within the frame", () => {
    expect(labelledAtoms({ text: "index", atoms: "all", size: 14 }, new Set(), 3)).toEqual([0, 1, 2]);
    expect(labelledAtoms({ text: "index", atoms: "selection", size: 14 }, new Set([2, 0]), 3)).toEqual([0, 2]);
    expect(labelledAtoms({ text: "index", atoms: [1, 7], size: 14 }, new Set(), 3)).toEqual([1]);
  });
});
