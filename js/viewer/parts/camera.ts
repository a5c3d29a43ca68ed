// The view's camera as a small object of numbers (`position`, `target`, `up`, `fov`,
// `orthographic`, `zoom`: the `camera` trait's form, renderer/camera.ts), the form bookmarks
// keep it in; applying one moves the camera there.
import type { Renderer } from "../../renderer";
import type { CameraState as RigState } from "../../renderer/camera";

export type CameraState = Record<string, number | boolean | number[]>;

/** Where the view looks from and at. */
export function cameraState(renderer: Renderer): CameraState {
  return { ...renderer.rig.state() };
}

/** Look from ``state`` (fields it lacks, or that are malformed, stay as they are). */
export function applyCamera(renderer: Renderer, state: CameraState): void {
  const triple = (value: unknown): value is [number, number, number] => Array.isArray(value) && value.length === 3 && value.every(Number.isFinite);
  const valid: Partial<RigState> = {};
  if (triple(state.position)) valid.position = state.position;
  if (triple(state.target)) valid.target = state.target;
  if (triple(state.up)) valid.up = state.up;
  if (typeof state.fov === "number" && state.fov > 0 && state.fov < 180) valid.fov = state.fov;
  if (typeof state.orthographic === "boolean") valid.orthographic = state.orthographic;
  if (typeof state.zoom === "number" && state.zoom > 0) valid.zoom = state.zoom;
  renderer.rig.apply(valid);
  renderer.requestRender();
}
