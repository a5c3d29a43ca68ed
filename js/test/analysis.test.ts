// The analysis math without WebGL: measurements (against ase's values), the cell's algebra,
// bonds by the minimum image, colour mapping, per-atom properties, and the layers that draw
// them (arrows, periodic images, measurements).
import { InstancedBufferAttribute, Mesh } from "three";
import { describe, expect, it } from "vitest";
import { attributeItems } from "./attributes";
import { NDArray } from "../codec";
import type { Frame } from "../frames";
import { angle, dihedral, distance, fractional, latticeOffsets, measure, wrap } from "../geometry";
import { parseProperty, propertyChoices, propertyValues, vectorChoices } from "../properties";
import { colormapTable, Coloring, finiteRange, mapValues } from "../renderer/coloring";
import { AtomsLayer } from "../renderer/layers/atoms";
import { BondsLayer, computeBonds, computePeriodicBonds } from "../renderer/layers/bonds";
import { ImagesLayer } from "../renderer/layers/images";
import { MeasurementsLayer } from "../renderer/layers/measurements";
import { VectorsLayer } from "../renderer/layers/vectors";

function frame(positions: number[], numbers: number[], extra: Partial<Frame> = {}): Frame {
  const display = Float32Array.from(positions);
  return { index: 0, id: "f", version: 1, positions: Float64Array.from(positions), display, numbers: Uint8Array.from(numbers), cell: null, pbc: null, fields: {}, bytes: 0, ...extra };
}

// Four carbons; ase: get_distance(0, 1) 1.5, get_angle(0, 1, 2) 109.6538240580533,
// get_dihedral(0, 1, 2, 3) 137.10393721422042 (222.89606278577958 with z3 = -0.9).
const CHAIN = [0, 0, 0, 1.5, 0, 0, 2.0, 1.4, 0, 3.1, 1.6, 0.9];

describe("measurements", () => {
  it("agree with ase's distance, angle and dihedral", () => {
    expect(distance(CHAIN, 0, 1)).toBeCloseTo(1.5, 12);
    expect(angle(CHAIN, 0, 1, 2)).toBeCloseTo(109.6538240580533, 10);
    expect(dihedral(CHAIN, 0, 1, 2, 3)).toBeCloseTo(137.10393721422042, 10);
    const mirrored = [...CHAIN];
    mirrored[11] = -0.9;
    expect(dihedral(mirrored, 0, 1, 2, 3)).toBeCloseTo(222.89606278577958, 10);
  });

  it("measure picks the kind by the number of atoms and refuses bad indices", () => {
    expect(measure(CHAIN, [0, 1])).toEqual({ kind: "distance", value: 1.5 });
    expect(measure(CHAIN, [0, 1, 2])?.kind).toBe("angle");
    expect(measure(CHAIN, [0, 1, 2, 3])?.kind).toBe("dihedral");
    expect(measure(CHAIN, [0])).toBeNull();
    expect(measure(CHAIN, [0, 4])).toBeNull();
    expect(measure(CHAIN, [0, 1, 2, 3, 0])).toBeNull();
  });

  it("the layer lists values from the frame's own positions, one label each", () => {
    const labels: unknown[] = [];
    const overlay = { append: (label: unknown) => labels.push(label) } as unknown as HTMLElement;
    const created: Array<{ className: string; textContent: string; remove(): void; style: Record<string, string> }> = [];
    (globalThis as { document?: unknown }).document = {
      createElement: () => {
        const el = { className: "", textContent: "", style: {}, remove: () => undefined };
        created.push(el);
        return el;
      },
    };
    const layer = new MeasurementsLayer(overlay);
    layer.setMeasurements([[0, 1], [0, 1, 2], [0, 9]]);
    layer.update({ frame: frame(CHAIN, [6, 6, 6, 6]), positions: Float32Array.from(CHAIN) });
    expect(layer.results.map((m) => m.kind)).toEqual(["distance", "angle"]); // [0, 9]: no atom 9
    expect(created.map((l) => l.textContent)).toEqual(["1.500 Å", "109.7°"]);
    delete (globalThis as { document?: unknown }).document;
  });
});

// A 4 Å cubic cell, periodic along x and y only.
const CELL = [4, 0, 0, 0, 4, 0, 0, 0, 4];
const TRICLINIC = [4, 0, 0, 1, 3.8, 0, 0.5, 0.3, 5];

describe("the cell", () => {
  it("fractional coordinates and wrapping invert each other (triclinic)", () => {
    const p = [0.3, 0.2, 0.1, 5.1, -1.0, 12.0];
    const f = fractional(p, TRICLINIC);
    const back = [0, 1, 2].map((d) => f[0] * TRICLINIC[d] + f[1] * TRICLINIC[3 + d] + f[2] * TRICLINIC[6 + d]);
    back.forEach((v, d) => expect(v).toBeCloseTo(p[d], 10));
    const w = wrap(p, TRICLINIC, null, new Float32Array(6));
    const fw = fractional(w, TRICLINIC);
    for (const v of fw) expect(v >= -1e-6 && v < 1 + 1e-6).toBe(true);
    // only the periodic directions are wrapped
    const partial = wrap([5, 5, 5], CELL, [true, false, false], new Float32Array(3));
    expect(Array.from(partial)).toEqual([1, 5, 5]);
  });

  it("lattice offsets of a 2 x 2 x 1 repeat start at the origin", () => {
    expect(Array.from(latticeOffsets(CELL, [2, 2, 1]))).toEqual([0, 0, 0, 0, 4, 0, 4, 0, 0, 4, 4, 0]);
    expect(latticeOffsets(CELL, [3, 3, 3]).length).toBe(27 * 3);
  });
});

describe("bonds by the minimum image", () => {
  // A C-H pair split by the x boundary: C at x = 0.2, H at x = 3.4 (0.8 Å apart through it).
  const SPLIT = [0.2, 2, 2, 3.4, 2, 2];

  it("finds the bond across a periodic boundary, with the image's lattice vector", () => {
    expect(computeBonds(SPLIT, [6, 1]).length).toBe(0);
    const { pairs, shifts } = computePeriodicBonds(SPLIT, [6, 1], CELL, [true, true, true]);
    expect(Array.from(pairs)).toEqual([0, 1]);
    expect(Array.from(shifts)).toEqual([-1, 0, 0]); // H's image at 3.4 - 4 = -0.6
  });

  it("not along a direction that is not periodic", () => {
    expect(computePeriodicBonds(SPLIT, [6, 1], CELL, [false, true, true]).pairs.length).toBe(0);
  });

  it("keeps a whole molecule outside the cell bonded directly (no shift)", () => {
    const outside = [4.5, 2, 2, 5.5, 2, 2]; // both in the next cell along x
    const { pairs, shifts } = computePeriodicBonds(outside, [6, 1], CELL, null);
    expect(Array.from(pairs)).toEqual([0, 1]);
    expect(Array.from(shifts)).toEqual([0, 0, 0]);
  });

  it("finds each bond once in a periodic crystal (simple cubic: 3 per atom)", () => {
    // Carbons 1.5 Å apart, 3 x 3 x 3 in a 4.5 Å cell: 6 neighbours
    // each, 3 bonds per atom once counted across the boundaries.
    const p: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) p.push(1.5 * i, 1.5 * j, 1.5 * k);
    const { pairs } = computePeriodicBonds(p, new Array(27).fill(6), [4.5, 0, 0, 0, 4.5, 0, 0, 0, 4.5], null);
    expect(pairs.length / 2).toBe(27 * 3);
    const keys = new Set<string>();
    for (let b = 0; b < pairs.length; b += 2) keys.add(`${pairs[b]}-${pairs[b + 1]}`);
    expect(keys.size).toBe(27 * 3);
  });

  it("the layer draws a bond across the boundary as two halves, one from each atom", () => {
    const atoms = new AtomsLayer();
    const bonds = new BondsLayer(atoms);
    const shown = { frame: frame(SPLIT, [6, 1], { cell: Float64Array.from(CELL), pbc: [true, true, true] }), positions: Float32Array.from(SPLIT) };
    atoms.update(shown);
    bonds.update(shown);
    expect(bonds.count).toBe(1);
    expect(bonds.object.geometry.instanceCount).toBe(2);
    const get = (name: string) => attributeItems(bonds.object, name, 2);
    const close = (a: number[], b: number[]) => a.forEach((v, k) => expect(v).toBeCloseTo(b[k], 5));
    close(get("bondStart"), [0.2, 2, 2, 3.4, 2, 2]);
    close(get("bondEnd"), [-0.2, 2, 2, 3.8, 2, 2]); // half way to the other's image
  });
});

const FORCES = new NDArray("<f8", [3, 3], Float64Array.from([3, 4, 0, 0, 0, 1, -1, 0, 0]));
const CHARGES = new NDArray("<f8", [3], Float64Array.from([-0.8, 0.4, 0.4]));
const TAGS = new NDArray("<i8", [3], BigInt64Array.from([0n, 1n, 1n]));

function water(): Frame {
  return frame([0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0], [8, 1, 1], {
    fields: { "calc.forces": FORCES, "calc.charges": CHARGES, "arrays.tags": TAGS, "info.name": "w", "arrays.colors": new NDArray("<f4", [3, 3], new Float32Array(9)) },
  });
}

describe("per-atom properties", () => {
  it("parses names with a component or the norm", () => {
    expect(parseProperty("calc.forces[x]")).toEqual({ field: "calc.forces", component: 0 });
    expect(parseProperty("calc.forces[2]")).toEqual({ field: "calc.forces", component: 2 });
    expect(parseProperty("calc.forces[norm]")).toEqual({ field: "calc.forces", component: "norm" });
    expect(parseProperty("calc.charges")).toEqual({ field: "calc.charges", component: null });
    expect(parseProperty("calc.forces[w]")).toBeNull();
    expect(parseProperty("")).toBeNull();
  });

  it("offers the per-atom arrays (not the style ones), and the N x 3 ones for arrows", () => {
    const f = water();
    expect(propertyChoices(f)).toEqual(["calc.forces[norm]", "calc.forces[x]", "calc.forces[y]", "calc.forces[z]", "calc.charges", "arrays.tags"]);
    expect(vectorChoices(f)).toEqual(["calc.forces"]);
  });

  it("gives one number per atom: values, a component, the norm; integers are labels", () => {
    const f = water();
    expect(Array.from(propertyValues(f, parseProperty("calc.forces")!)!.values)).toEqual([5, 1, 1]);
    expect(Array.from(propertyValues(f, parseProperty("calc.forces[y]")!)!.values)).toEqual([4, 0, 0]);
    expect(propertyValues(f, parseProperty("calc.charges")!)).toEqual({ values: Float64Array.from([-0.8, 0.4, 0.4]), categorical: false });
    expect(propertyValues(f, parseProperty("arrays.tags")!)!.categorical).toBe(true);
    expect(propertyValues(f, parseProperty("calc.missing")!)).toBeNull();
  });
});

describe("colour mapping", () => {
  it("uses matplotlib's viridis: its ends at the range's ends, clamped outside", () => {
    const table = colormapTable("viridis");
    expect(table.length).toBe(256 * 3);
    const out = new Float32Array(12);
    mapValues([0, 10, -5, 20], 0, 10, table, out);
    expect(Array.from(out.slice(0, 3))).toEqual(Array.from(table.slice(0, 3)));
    expect(Array.from(out.slice(3, 6))).toEqual(Array.from(table.slice(-3)));
    expect(Array.from(out.slice(6, 9))).toEqual(Array.from(table.slice(0, 3)));
    expect(Array.from(out.slice(9, 12))).toEqual(Array.from(table.slice(-3)));
    // viridis runs from dark purple (#440154) to yellow (#fde725): blue > red at 0, red > blue at 1
    expect(table[2]).toBeGreaterThan(table[0]);
    expect(table[table.length - 3]).toBeGreaterThan(table[table.length - 1]);
  });

  it("an automatic range is the frame's min and max; a fixed one is kept", () => {
    expect(finiteRange([3, -1, NaN, 7])).toEqual([-1, 7]);
    const out = new Float32Array(9);
    const key = new Coloring({ property: "calc.charges" }).apply(water(), out);
    expect(key).toEqual({ kind: "continuous", property: "calc.charges", colormap: "viridis", min: -0.8, max: 0.4 });
    const fixed = new Coloring({ property: "calc.charges", colormap: "magma", range: [-1, 1] }).apply(water(), out);
    expect(fixed).toMatchObject({ min: -1, max: 1, colormap: "magma" });
  });

  it("colours integer labels by category, the same label the same colour", () => {
    const out = new Float32Array(9);
    const key = new Coloring({ property: "arrays.tags" }).apply(water(), out);
    expect(key).toEqual({ kind: "categorical", property: "arrays.tags", labels: [0, 1] });
    expect(Array.from(out.slice(3, 6))).toEqual(Array.from(out.slice(6, 9)));
    expect(Array.from(out.slice(0, 3))).not.toEqual(Array.from(out.slice(3, 6)));
  });

  it("the atoms layer takes the property's colours every frame, and the elements' again after", () => {
    const atoms = new AtomsLayer();
    const f = water();
    atoms.update({ frame: f, positions: f.display });
    const elements = Array.from(atoms.colors);
    atoms.setColoring(new Coloring({ property: "calc.charges" }));
    atoms.update({ frame: f, positions: f.display });
    const viridis = colormapTable("viridis");
    expect(Array.from(atoms.colors.slice(0, 3))).toEqual(Array.from(viridis.slice(0, 3)));
    expect(atoms.colorKey?.kind).toBe("continuous");
    atoms.setColoring(null);
    atoms.update({ frame: f, positions: f.display });
    expect(Array.from(atoms.colors)).toEqual(elements);
  });
});

describe("arrows and periodic images", () => {
  it("draw one arrow per atom from the drawn positions, without copying them", () => {
    const vectors = new VectorsLayer();
    const f = water();
    vectors.setVectors({ field: "calc.forces", scale: 0.5, color: "#00ff00" });
    vectors.update({ frame: f, positions: f.display });
    const geometry = vectors.object.geometry;
    expect(vectors.count).toBe(3);
    expect((geometry.getAttribute("arrowStart") as InstancedBufferAttribute).array).toBe(f.display);
    expect(Array.from((geometry.getAttribute("arrowVector") as InstancedBufferAttribute).array)).toEqual([3, 4, 0, 0, 0, 1, -1, 0, 0]);
    expect(vectors.object.material.uniforms.scale.value).toBe(0.5);
    vectors.setVectors(null);
    vectors.update({ frame: f, positions: f.display });
    expect(vectors.object.visible).toBe(false);
  });

  it("repeat the meshes at the lattice offsets, sharing their geometry (periodic frames only)", () => {
    const atoms = new AtomsLayer();
    const bonds = new BondsLayer(atoms);
    const images = new ImagesLayer([atoms, bonds]);
    const f = frame([1, 1, 1], [6], { cell: Float64Array.from(CELL), pbc: [true, true, true] });
    const shown = { frame: f, positions: f.display };
    atoms.update(shown);
    images.setRepeat([2, 2, 1]);
    images.update(shown);
    expect(images.count).toBe(4);
    const meshes = images.object.children as Mesh[];
    expect(meshes.length).toBe(3 * 2);
    expect(meshes.filter((m) => m.geometry === atoms.object.geometry).length).toBe(3);
    expect(meshes.map((m) => m.position.toArray()).filter((_, k) => k % 2 === 0)).toEqual([[0, 4, 0], [4, 0, 0], [4, 4, 0]]);
    const molecule = frame([1, 1, 1], [6]);
    images.update({ frame: molecule, positions: molecule.display });
    expect(images.count).toBe(1);
    expect(images.object.children.length).toBe(0);
  });
});
