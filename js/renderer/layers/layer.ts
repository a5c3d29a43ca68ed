// What the view asks of each thing it draws (atoms, bonds, the cell, ...).
import type { Box3, Camera, Color, Object3D } from "three";
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
