// Bonds of the "lines" representation: one 1-pixel line per bond, each half in its atom's
// colour (the bond pairs and kinds come from the bonds layer, updated just before).
import { BufferAttribute, BufferGeometry, DynamicDrawUsage, LineBasicMaterial, LineSegments } from "three";
import { BondKind } from "../look";
import type { AtomsLayer } from "./atoms";
import type { BondsLayer } from "./bonds";
import type { Layer, ShownFrame } from "./layer";

export class LinesLayer implements Layer {
  readonly object: LineSegments<BufferGeometry, LineBasicMaterial>;
  /** Bonds drawn as lines. */
  count = 0;

  constructor(private readonly atoms: AtomsLayer, private readonly bonds: BondsLayer) {
    this.object = new LineSegments(new BufferGeometry(), new LineBasicMaterial({ vertexColors: true }));
    this.object.frustumCulled = false;
  }

  update(shown: ShownFrame): void {
    const { pairs, kinds, shifts } = this.bonds;
    const cell = shown.frame.cell;
    let count = 0;
    for (let b = 0; b < kinds.length; b++) if (kinds[b] === BondKind.Line) count++;
    this.count = count;
    const geometry = this.object.geometry;
    // Two segments (four vertices) per bond: atom i half way to atom j's bonded image, and
    // atom j half way back (the same middle, unless the bond crosses the cell's boundary).
    const positions = grow(geometry, "position", count * 12);
    const colors = grow(geometry, "color", count * 12);
    const p = shown.positions, c = this.atoms.colors;
    const v = positions.array as Float32Array, col = colors.array as Float32Array;
    let o = 0;
    for (let b = 0; b < kinds.length; b++) {
      if (kinds[b] !== BondKind.Line) continue;
      const i = pairs[2 * b], j = pairs[2 * b + 1];
      const n0 = shifts?.[3 * b] ?? 0, n1 = shifts?.[3 * b + 1] ?? 0, n2 = shifts?.[3 * b + 2] ?? 0;
      for (let k = 0; k < 3; k++) {
        const image = cell && (n0 || n1 || n2) ? n0 * cell[k] + n1 * cell[3 + k] + n2 * cell[6 + k] : 0;
        const half = (p[3 * j + k] + image - p[3 * i + k]) / 2;
        v[o + k] = p[3 * i + k];
        v[o + 3 + k] = p[3 * i + k] + half;
        v[o + 6 + k] = p[3 * j + k] - half;
        v[o + 9 + k] = p[3 * j + k];
        col[o + k] = col[o + 3 + k] = c[3 * i + k];
        col[o + 6 + k] = col[o + 9 + k] = c[3 * j + k];
      }
      o += 12;
    }
    positions.needsUpdate = colors.needsUpdate = true;
    geometry.setDrawRange(0, count * 4);
    this.object.visible = count > 0;
  }

  dispose(): void {
    this.object.geometry.dispose();
    this.object.material.dispose();
  }
}

/** The attribute ``name`` (3 floats per vertex) with room for ``size`` floats. */
function grow(geometry: BufferGeometry, name: string, size: number): BufferAttribute {
  let attribute = geometry.getAttribute(name) as BufferAttribute | undefined;
  if (!attribute || attribute.array.length < size) {
    attribute = new BufferAttribute(new Float32Array(Math.max(size, Math.ceil((attribute?.array.length ?? 0) * 1.5), 48)), 3);
    attribute.setUsage(DynamicDrawUsage);
    geometry.setAttribute(name, attribute);
  }
  return attribute;
}
