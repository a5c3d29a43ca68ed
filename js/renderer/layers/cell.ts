// The unit cell: its 12 edges as lines, drawn when the cell is non-zero, grey that stays
// visible on the background.
import { Box3, BufferAttribute, BufferGeometry, Color, LineBasicMaterial, LineSegments, Vector3 } from "three";
import type { Layer, ShownFrame } from "./layer";

/** The cell's corners as fractions of its vectors (edges below index into these). */
const CORNERS = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]];
const EDGES = [[0, 1], [0, 2], [0, 3], [1, 4], [1, 5], [2, 4], [2, 6], [3, 5], [3, 6], [4, 7], [5, 7], [6, 7]];

/** Corner ``k`` of a cell given as 9 numbers (row vectors a, b, c). */
function corner(cell: ArrayLike<number>, k: number, out: Vector3): Vector3 {
  const [x, y, z] = CORNERS[k];
  return out.set(
    x * cell[0] + y * cell[3] + z * cell[6],
    x * cell[1] + y * cell[4] + z * cell[7],
    x * cell[2] + y * cell[5] + z * cell[8],
  );
}

export class CellLayer implements Layer {
  readonly object: LineSegments<BufferGeometry, LineBasicMaterial>;
  /** The cell drawn (9 numbers), or null when there is none. */
  private cell: Float32Array | null = null;

  constructor() {
    const geometry = new BufferGeometry();
    geometry.setAttribute("position", new BufferAttribute(new Float32Array(EDGES.length * 2 * 3), 3));
    this.object = new LineSegments(geometry, new LineBasicMaterial({ color: 0x888888 }));
    this.object.frustumCulled = false;
    this.object.visible = false;
  }

  update({ frame }: ShownFrame): void {
    const cell = frame.cell;
    const nonzero = !!cell && Array.from(cell).some((v) => v !== 0);
    this.object.visible = nonzero;
    if (!nonzero || !cell) {
      this.cell = null;
      return;
    }
    if (this.cell && this.cell.every((v, i) => v === cell[i])) return;
    this.cell = Float32Array.from(cell);
    const attribute = this.object.geometry.getAttribute("position") as BufferAttribute;
    const u = new Vector3(), v = new Vector3();
    EDGES.forEach(([a, b], k) => {
      corner(cell, a, u);
      corner(cell, b, v);
      attribute.setXYZ(2 * k, u.x, u.y, u.z);
      attribute.setXYZ(2 * k + 1, v.x, v.y, v.z);
    });
    attribute.needsUpdate = true;
  }

  expandBounds(box: Box3): void {
    if (!this.cell) return;
    const v = new Vector3();
    for (let k = 0; k < CORNERS.length; k++) box.expandByPoint(corner(this.cell, k, v));
  }

  setBackground(color: Color): void {
    const luminance = 0.2126 * color.r + 0.7152 * color.g + 0.0722 * color.b;
    this.object.material.color.set(luminance > 0.5 ? 0x666666 : 0xaaaaaa);
  }

  dispose(): void {
    this.object.geometry.dispose();
    this.object.material.dispose();
  }
}
