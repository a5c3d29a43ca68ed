// The view's camera as a small object of numbers (`position`, `target`, `up`, `fov`), the
// form bookmarks keep it in; applying one moves the orbit camera there.
import type { Renderer } from "../../renderer";

export type CameraState = Record<string, number | boolean | number[]>;

/** Where the view looks from and at. */
export function cameraState(renderer: Renderer): CameraState {
  const { camera, controls } = renderer;
  return { position: camera.position.toArray(), target: controls.target.toArray(), up: camera.up.toArray(), fov: camera.fov };
}

/** Look from ``state`` (fields it lacks, or that are malformed, stay as they are). */
export function applyCamera(renderer: Renderer, state: CameraState): void {
  const { camera, controls } = renderer;
  const triple = (value: unknown): value is number[] => Array.isArray(value) && value.length === 3 && value.every(Number.isFinite);
  if (triple(state.position)) camera.position.fromArray(state.position);
  if (triple(state.target)) controls.target.fromArray(state.target);
  if (triple(state.up)) camera.up.fromArray(state.up);
  if (typeof state.fov === "number" && state.fov > 0 && state.fov < 180) camera.fov = state.fov;
  camera.updateProjectionMatrix();
  controls.update();
  renderer.requestRender();
}
