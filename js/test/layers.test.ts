// The renderer's layers without WebGL: what each update puts in its buffers.
import { Box3, Color, InstancedBufferAttribute, type InterleavedBufferAttribute } from "three";
import { describe, expect, it } from "vitest";
import { attributeItems } from "./attributes";
import { NDArray } from "../codec";
import { COVALENT_RADII } from "../elements";
import type { Frame } from "../frames";
import { AtomsLayer, RADIUS_SCALE } from "../renderer/layers/atoms";
import { BOND_LIMIT, BondsLayer, computeBonds } from "../renderer/layers/bonds";
import { CellLayer } from "../renderer/layers/cell";
import { createLayers } from "../renderer/layers";

// Water: O at the origin, two H at 0.96 Å; the H-H distance (1.52 Å) is no bond.
const WATER = [0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0];

function frame(positions: number[], numbers: number[], extra: Partial<Frame> = {}): Frame {
  const display = Float32Array.from(positions);
  return { index: 0, id: "f", version: 1, positions: display, display, numbers: Uint8Array.from(numbers), cell: null, pbc: null, fields: {}, bytes: 0, ...extra };
}

function shown(f: Frame, positions = f.display) {
  return { frame: f, positions };
}

function attribute(layer: { object: { geometry: { getAttribute(name: string): unknown } } }, name: string): Float32Array {
  return (layer.object.geometry.getAttribute(name) as InstancedBufferAttribute).array as Float32Array;
}

describe("AtomsLayer", () => {
  it("uploads colours again only when they change, not for every frame", () => {
    const atoms = new AtomsLayer();
    atoms.update(shown(frame(WATER, [8, 1, 1])));
    const colors = atoms.object.geometry.getAttribute("instanceColor") as InstancedBufferAttribute;
    const version = colors.version;
    atoms.update(shown(frame(WATER.map((x) => x + 1), [8, 1, 1])));
    expect(colors.version).toBe(version);
    atoms.update(shown(frame(WATER, [6, 1, 1])));
    expect(colors.version).toBeGreaterThan(version);
  });

  it("draws from the frame's own positions, with element radii and colours", () => {
    const atoms = new AtomsLayer();
    const water = frame(WATER, [8, 1, 1]);
    atoms.update(shown(water));
    expect(atoms.object.geometry.instanceCount).toBe(3);
    expect(attribute(atoms, "instancePosition")).toBe(water.display);
    expect(Array.from(attribute(atoms, "instanceRadius"))).toEqual([8, 1, 1].map((z) => Math.fround(COVALENT_RADII[z] * RADIUS_SCALE)));
    const oxygen = new Color(0xff0d0d);
    expect(Array.from(attribute(atoms, "instanceColor").subarray(0, 3))).toEqual([oxygen.r, oxygen.g, oxygen.b].map(Math.fround));
    expect(atoms.numbers).toEqual(water.numbers);
  });

  it("takes a frame's own colours (uint8) and radii", () => {
    const atoms = new AtomsLayer();
    const fields = {
      "arrays.colors": new NDArray("|u1", [3, 3], Uint8Array.from([255, 255, 255, 0, 0, 0, 255, 0, 0])),
      "arrays.radii": new NDArray("<f4", [3], Float32Array.from([1, 2, 3])),
    };
    atoms.update(shown(frame(WATER, [8, 1, 1], { fields })));
    expect(Array.from(attribute(atoms, "instanceRadius"))).toEqual([1, 2, 3]);
    expect(Array.from(attribute(atoms, "instanceColor"))).toEqual([1, 1, 1, 0, 0, 0, 1, 0, 0]);
    // the next frame without them goes back to the elements'
    atoms.update(shown(frame(WATER, [8, 1, 1])));
    expect(attribute(atoms, "instanceRadius")[0]).toBe(Math.fround(COVALENT_RADII[8] * RADIUS_SCALE));
  });

  it("marks the selected atoms, also across frames", () => {
    const atoms = new AtomsLayer();
    atoms.update(shown(frame(WATER, [8, 1, 1])));
    atoms.setSelection([2, 7]);
    expect(Array.from(attribute(atoms, "instanceSelected"))).toEqual([0, 0, 1]);
    atoms.update(shown(frame([...WATER, 5, 5, 5], [8, 1, 1, 6])));
    expect(Array.from(attribute(atoms, "instanceSelected"))).toEqual([0, 0, 1, 0]);
  });

  it("releases the old geometry when the atom count changes, and all on dispose", () => {
    const atoms = new AtomsLayer();
    atoms.update(shown(frame(WATER, [8, 1, 1])));
    const first = atoms.object.geometry;
    let disposed = 0;
    first.addEventListener("dispose", () => disposed++);
    atoms.update(shown(frame([0, 0, 0], [6])));
    expect(disposed).toBe(1);
    expect(atoms.object.geometry.instanceCount).toBe(1);
    let released = 0;
    atoms.object.geometry.addEventListener("dispose", () => released++);
    atoms.object.material.addEventListener("dispose", () => released++);
    atoms.dispose();
    expect(released).toBe(2);
  });

  it("bounds the positions", () => {
    const atoms = new AtomsLayer();
    atoms.update(shown(frame(WATER, [8, 1, 1])));
    const box = new Box3();
    atoms.expandBounds(box);
    expect(box.min.toArray()).toEqual([-0.24, 0, 0].map(Math.fround));
    expect(box.max.toArray()).toEqual([0.96, 0.93, 0].map(Math.fround));
  });
});

describe("bonds", () => {
  /** Atoms and bonds layers that drew a water molecule. */
  function drawnWater() {
    const atoms = new AtomsLayer();
    const bonds = new BondsLayer(atoms);
    const water = frame(WATER, [8, 1, 1]);
    atoms.update(shown(water));
    bonds.update(shown(water));
    return { atoms, bonds, water };
  }

  it("finds the bonds of a small molecule", () => {
    expect(Array.from(computeBonds(WATER, [8, 1, 1]))).toEqual([0, 1, 0, 2]);
    expect(computeBonds([0, 0, 0, 3, 0, 0], [8, 8]).length).toBe(0);
  });

  it("uploads only the bonds drawn, as one buffer", () => {
    const { bonds } = drawnWater();
    const start = bonds.object.geometry.getAttribute("bondStart") as InterleavedBufferAttribute;
    const radius = bonds.object.geometry.getAttribute("bondRadius") as InterleavedBufferAttribute;
    expect(radius.data).toBe(start.data); // one upload for all of a bond's attributes
    expect(start.data.count).toBeGreaterThan(2); // room for more bonds than drawn ...
    expect(start.data.updateRanges).toEqual([{ start: 0, count: 2 * start.data.stride }]); // ... not uploaded
  });

  it("uploads nothing for a frame without sticks", () => {
    const { atoms, bonds } = drawnWater();
    const start = bonds.object.geometry.getAttribute("bondStart") as InterleavedBufferAttribute;
    const version = start.data.version;
    const apart = frame([0, 0, 0, 5, 0, 0, 10, 0, 0], [8, 1, 1]);
    atoms.update(shown(apart));
    bonds.update(shown(apart));
    expect(bonds.object.geometry.instanceCount).toBe(0);
    expect(start.data.version).toBe(version); // not sent again (a range of 0 would send it all)
  });

  it("draws each bond from atom to atom in their colours, following edits", () => {
    const { atoms, bonds, water } = drawnWater();
    expect(bonds.count).toBe(2);
    expect(bonds.object.geometry.instanceCount).toBe(2);
    expect(attributeItems(bonds.object, "bondStart", 2)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(attributeItems(bonds.object, "bondEnd", 2)).toEqual(WATER.slice(3).map(Math.fround));
    expect(attributeItems(bonds.object, "bondColorStart", 1)).toEqual(Array.from(atoms.colors.subarray(0, 3)));
    expect(attributeItems(bonds.object, "bondColorEnd", 1)).toEqual(Array.from(atoms.colors.subarray(3, 6)));
    const moved = water.display.slice();
    moved[3] = 5; // the first hydrogen leaves
    bonds.update(shown(water, moved));
    expect(bonds.count).toBe(1);
    expect(attributeItems(bonds.object, "bondEnd", 1)).toEqual(WATER.slice(6).map(Math.fround));
  });

  it("finds a frame's bonds once: shown again, the frame keeps them", () => {
    const { bonds, water } = drawnWater();
    expect(bonds.count).toBe(2);
    // a frame's own positions never change; changed behind its back, the bonds found stay
    water.display[3] = 5;
    bonds.update(shown(water));
    expect(bonds.count).toBe(2);
    // another frame, or the same one's positions as drawn while editing (a copy), are searched
    bonds.update(shown(frame(Array.from(water.display), [8, 1, 1])));
    expect(bonds.count).toBe(1);
    bonds.update(shown(water, water.display.slice()));
    expect(bonds.count).toBe(1);
  });

  it("finds a frame's bonds ahead of its draw (prepare) and draws them as found then", () => {
    const atoms = new AtomsLayer();
    const bonds = new BondsLayer(atoms);
    const water = frame(WATER, [8, 1, 1]);
    bonds.prepare(water);
    water.display[3] = 5; // were they searched again at the draw, the O-H bond would go
    atoms.update(shown(water));
    bonds.update(shown(water));
    expect(bonds.count).toBe(2);
  });

  it("draws none above the limit", () => {
    const atoms = new AtomsLayer();
    const bonds = new BondsLayer(atoms);
    const big = frame(new Array((BOND_LIMIT + 1) * 3).fill(0), new Array(BOND_LIMIT + 1).fill(1));
    bonds.update(shown(big));
    expect(bonds.count).toBe(0);
    expect(bonds.object.geometry.instanceCount).toBe(0);
  });
});

describe("CellLayer", () => {
  it("draws the 12 edges of a cell matrix and bounds it", () => {
    const cell = new CellLayer();
    cell.update(shown(frame([], [], { cell: Float64Array.from([2, 0, 0, 0, 3, 0, 1, 0, 4]) })));
    expect(cell.object.visible).toBe(true);
    const p = attribute(cell, "position");
    const edges = new Set<string>();
    for (let k = 0; k < 12; k++) {
      const a = Array.from(p.subarray(6 * k, 6 * k + 3)), b = Array.from(p.subarray(6 * k + 3, 6 * k + 6));
      const d = a.map((v, i) => b[i] - v);
      edges.add(JSON.stringify(d.every((v) => v >= 0) ? d : d.map((v) => -v)));
    }
    // every edge is one of the three cell vectors
    expect([...edges].sort()).toEqual(["[0,3,0]", "[1,0,4]", "[2,0,0]"]);
    const box = new Box3();
    cell.expandBounds(box);
    expect(box.min.toArray()).toEqual([0, 0, 0]);
    expect(box.max.toArray()).toEqual([3, 3, 4]);
  });

  it("hides a zero or missing cell", () => {
    const cell = new CellLayer();
    cell.update(shown(frame([], [], { cell: Float64Array.from([2, 0, 0, 0, 3, 0, 0, 0, 4]) })));
    cell.update(shown(frame([], [], { cell: new Float64Array(9) })));
    expect(cell.object.visible).toBe(false);
    const box = new Box3();
    cell.expandBounds(box);
    expect(box.isEmpty()).toBe(true);
  });

  it("stays visible on the background", () => {
    const cell = new CellLayer();
    cell.setBackground(new Color(0x000000));
    expect(cell.object.material.color.getHex()).toBe(0xaaaaaa);
    cell.setBackground(new Color(0xffffff));
    expect(cell.object.material.color.getHex()).toBe(0x666666);
  });
});

describe("createLayers", () => {
  it("updates the atoms before the layers that draw from them", () => {
    const layers = createLayers({} as HTMLElement);
    expect(layers.all[0]).toBe(layers.atoms);
    expect(layers.all).toContain(layers.bonds);
    expect(layers.all.some((layer) => layer instanceof CellLayer)).toBe(true);
  });
});
