// Measurements: for each kept group of 2, 3 or 4 atoms, its distance, angle or dihedral,
// drawn as lines through the atoms (over everything) with a label at their centre, and its
// value on the shown frame (from the frame's own full-precision positions).
import { BufferAttribute, BufferGeometry, LineBasicMaterial, LineSegments, Vector3, type Camera } from "three";
import { measure, type MeasureKind } from "../../geometry";
import type { Layer, ShownFrame } from "./layer";

export interface Measurement {
  atoms: number[];
  kind: MeasureKind;
  /** Å (distance) or degrees. */
  value: number;
}

/** "1.234 Å", "109.5°". */
export function formatMeasurement(m: Measurement): string {
  return m.kind === "distance" ? `${m.value.toFixed(3)} Å` : `${m.value.toFixed(1)}°`;
}

export class MeasurementsLayer implements Layer {
  readonly object: LineSegments<BufferGeometry, LineBasicMaterial>;
  /** The values on the shown frame, one per group that measures something there. */
  results: Measurement[] = [];
  private groups: number[][] = [];
  private anchors: Vector3[] = [];
  private labels: HTMLElement[] = [];
  private shown: ShownFrame | null = null;

  /** Labels go into ``overlay`` (an element over the canvas). */
  constructor(private readonly overlay: HTMLElement) {
    this.object = new LineSegments(new BufferGeometry(), new LineBasicMaterial({ color: 0xff00aa, depthTest: false, transparent: true }));
    this.object.frustumCulled = false;
    this.object.renderOrder = 10;
  }

  /** Measure these groups of atom indices (2: distance, 3: angle, 4: dihedral). */
  setMeasurements(groups: number[][]): void {
    this.groups = groups.map((g) => [...g]);
    if (this.shown) this.update(this.shown);
  }

  update(shown: ShownFrame): void {
    this.shown = shown;
    const { frame, positions: p } = shown;
    this.results = [];
    this.anchors = [];
    const vertices: number[] = [];
    for (const atoms of this.groups) {
      const result = measure(frame.positions, atoms);
      if (!result || p.length !== frame.positions.length) continue;
      this.results.push({ atoms, ...result });
      const centre = new Vector3();
      atoms.forEach((a, k) => {
        centre.add(new Vector3(p[3 * a], p[3 * a + 1], p[3 * a + 2]).multiplyScalar(1 / atoms.length));
        if (k) vertices.push(p[3 * atoms[k - 1]], p[3 * atoms[k - 1] + 1], p[3 * atoms[k - 1] + 2], p[3 * a], p[3 * a + 1], p[3 * a + 2]);
      });
      this.anchors.push(centre);
    }
    const geometry = this.object.geometry;
    geometry.setAttribute("position", new BufferAttribute(new Float32Array(vertices), 3));
    while (this.labels.length > this.results.length) this.labels.pop()!.remove();
    while (this.labels.length < this.results.length) {
      const label = document.createElement("span");
      label.className = "zn-label";
      this.overlay.append(label);
      this.labels.push(label);
    }
    this.results.forEach((m, k) => (this.labels[k].textContent = formatMeasurement(m)));
  }

  beforeRender(camera: Camera, width: number, height: number): void {
    const v = new Vector3();
    this.anchors.forEach((anchor, k) => {
      v.copy(anchor).project(camera);
      const label = this.labels[k];
      label.style.display = v.z > 1 ? "none" : "";
      label.style.transform = `translate(${((v.x + 1) / 2) * width}px, ${((1 - v.y) / 2) * height}px)`;
    });
  }

  dispose(): void {
    this.object.geometry.dispose();
    this.object.material.dispose();
    for (const label of this.labels) label.remove();
  }
}
