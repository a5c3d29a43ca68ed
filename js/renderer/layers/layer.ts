// What the view asks of each thing it draws (atoms, bonds, the cell, ...).
import { type Box3, type BufferGeometry, type Camera, type Color, DynamicDrawUsage, InstancedBufferAttribute, type InterleavedBufferAttribute, type Object3D } from "three";
import type { Frame } from "../../frames";

/** The frame on screen, as the layers draw it. */
export interface ShownFrame {
  /** The frame shown: numbers, cell, per-atom arrays. */
  readonly frame: Frame;
  /** Positions on screen: the frame's float32 array, or an edited copy (dragging). A
   * layer sees the same ``frame`` again with new positions after an edit. */
  readonly positions: Float32Array;
}

/** One part of the scene: its three.js object, updated from each shown frame. */
export interface Layer {
  /** Added to the scene once, when the view is made. */
  readonly object: Object3D;
  /** Show ``shown``: called for every frame shown and after every edit of its positions. */
  update(shown: ShownFrame): void;
  /** Release the GPU resources (geometries, materials). */
  dispose(): void;
  /** Grow ``box`` by what the layer draws (the camera's fit). */
  expandBounds?(box: Box3): void;
  /** Follow the background (e.g. lines that stay visible on it). */
  setBackground?(color: Color): void;
  /** Just before each draw (e.g. place labels over the canvas, ``width`` x ``height`` CSS px). */
  beforeRender?(camera: Camera, width: number, height: number): void;
}

/** The instanced attribute ``name`` with room for ``count`` items, grown by half when short. */
export function growAttribute(geometry: BufferGeometry, name: string, itemSize: number, count: number): InstancedBufferAttribute {
  let attribute = geometry.getAttribute(name) as InstancedBufferAttribute | undefined;
  if (!attribute || attribute.count < count) {
    const capacity = Math.max(count, Math.ceil((attribute?.count ?? 0) * 1.5), 16);
    attribute = new InstancedBufferAttribute(new Float32Array(capacity * itemSize), itemSize);
    attribute.setUsage(DynamicDrawUsage);
    setInstanced(geometry, name, attribute);
  }
  return attribute;
}

/** Give ``geometry`` a new instanced attribute ``name`` (e.g. a bigger one). three.js caps an
 * instanced geometry's draws at the items of the instanced attribute it was first drawn with
 * (``_maxInstanceCount``, found once and kept): the cap is lifted, to be found again from the
 * new attribute at the next draw. */
export function setInstanced(geometry: BufferGeometry, name: string, attribute: InstancedBufferAttribute | InterleavedBufferAttribute): void {
  geometry.setAttribute(name, attribute);
  delete (geometry as { _maxInstanceCount?: number })._maxInstanceCount;
}
