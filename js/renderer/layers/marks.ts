// Other people's selections: a wireframe shell around each atom they selected, in their
// colour. The shells follow the frame shown (and a drag); only marked atoms cost anything.
import { Color, Group, IcosahedronGeometry, InstancedMesh, Matrix4, MeshBasicMaterial } from "three";
import type { AtomsLayer } from "./atoms";
import type { Layer, ShownFrame } from "./layer";

/** A shell is this much larger than the atom it marks. */
const SHELL_SCALE = 1.35;

/** One person's marked atoms and their colour (a CSS colour). */
export interface MarkGroup {
  color: string;
  atoms: number[];
}

export class MarksLayer implements Layer {
  readonly object = new Group();
  private readonly geometry = new IcosahedronGeometry(1, 1);
  private readonly material = new MeshBasicMaterial({ wireframe: true, transparent: true, opacity: 0.9 });
  private mesh: InstancedMesh | null = null;
  private groups: MarkGroup[] = [];
  private shown: ShownFrame | null = null;

  constructor(private readonly atoms: AtomsLayer) {}

  /** Mark these groups' atoms (and no others). */
  setMarks(groups: MarkGroup[]): void {
    this.groups = groups;
    this.rebuild();
  }

  update(shown: ShownFrame): void {
    this.shown = shown;
    this.rebuild();
  }

  /** How many atoms are marked on screen. */
  get count(): number {
    return this.mesh?.count ?? 0;
  }

  private rebuild(): void {
    const positions = this.shown?.positions;
    const atomCount = positions ? positions.length / 3 : 0;
    const total = this.groups.reduce((sum, group) => sum + group.atoms.length, 0);
    if (!this.mesh || this.mesh.instanceMatrix.count < total) {
      if (this.mesh) {
        this.object.remove(this.mesh);
        this.mesh.dispose();
      }
      this.mesh = new InstancedMesh(this.geometry, this.material, Math.max(16, total));
      this.mesh.frustumCulled = false;
      this.object.add(this.mesh);
    }
    const mesh = this.mesh;
    const matrix = new Matrix4();
    const color = new Color();
    const { radii } = this.atoms;
    let n = 0;
    for (const group of this.groups) {
      color.setStyle(group.color);
      for (const i of group.atoms) {
        if (!positions || i < 0 || i >= atomCount) continue;
        const r = (radii[i] || 0.5) * SHELL_SCALE;
        matrix.makeScale(r, r, r).setPosition(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]);
        mesh.setMatrixAt(n, matrix);
        mesh.setColorAt(n, color);
        n++;
      }
    }
    mesh.count = n;
    mesh.instanceMatrix.needsUpdate = true;
    if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
  }

  dispose(): void {
    this.mesh?.dispose();
    this.geometry.dispose();
    this.material.dispose();
  }
}
