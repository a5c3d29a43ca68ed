// Periodic images: the cell repeated n x m x l times. Each image is the atoms', bonds' and
// arrows' own meshes drawn again at a lattice offset (three.js objects sharing the same
// geometry and material, so the same GPU buffers): nothing is copied per frame or per image.
import { Box3, Group, Mesh, Vector3 } from "three";
import { latticeOffsets, type Vec3 } from "../../geometry";
import { isPeriodic } from "./bonds";
import type { Layer, ShownFrame } from "./layer";

export class ImagesLayer implements Layer {
  readonly object = new Group();
  /** Cells drawn (1: no images). */
  count = 1;
  private repeat: Vec3 = [1, 1, 1];
  /** The lattice offsets drawn, (0, 0, 0) first: 3 numbers per cell. */
  offsets: Float32Array = new Float32Array(3);
  private shown: ShownFrame | null = null;

  /** Images of ``sources``' meshes (read at every update: a layer may swap its geometry). */
  constructor(private readonly sources: Array<{ object: Mesh }>) {}

  /** Repeat the cell ``repeat`` = (n, m, l) times from the next update on. */
  setRepeat(repeat: Vec3): void {
    this.repeat = repeat.map((r) => Math.max(1, Math.floor(Number(r) || 1))) as Vec3;
    if (this.shown) this.update(this.shown);
  }

  update(shown: ShownFrame): void {
    this.shown = shown;
    const { cell, pbc } = shown.frame;
    const images = isPeriodic(cell, pbc) ? this.repeat : ([1, 1, 1] as Vec3);
    this.offsets = latticeOffsets(cell ?? [], images);
    this.count = this.offsets.length / 3;
    const meshes = this.count - 1;
    const group = this.object;
    const wanted = meshes * this.sources.length;
    while (group.children.length > wanted) group.remove(group.children[group.children.length - 1]);
    while (group.children.length < wanted) {
      const source = this.sources[group.children.length % this.sources.length].object;
      const mesh = new Mesh(source.geometry, source.material);
      mesh.frustumCulled = false;
      mesh.renderOrder = source.renderOrder;
      group.add(mesh);
    }
    group.children.forEach((child, k) => {
      const source = this.sources[k % this.sources.length].object;
      const image = 1 + Math.floor(k / this.sources.length);
      const mesh = child as Mesh;
      mesh.geometry = source.geometry;
      mesh.visible = source.visible;
      mesh.position.fromArray(this.offsets, 3 * image);
    });
  }

  expandBounds(box: Box3): void {
    if (this.count < 2 || box.isEmpty()) return;
    const min = box.min.clone(), max = box.max.clone();
    const v = new Vector3();
    for (let k = 3; k < this.offsets.length; k += 3) {
      v.fromArray(this.offsets, k);
      box.expandByPoint(min.clone().add(v));
      box.expandByPoint(max.clone().add(v));
    }
  }

  dispose(): void {
    this.object.clear(); // the meshes' geometry and material belong to their sources
  }
}
