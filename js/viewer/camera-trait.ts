// The ``camera`` trait both ways: a camera set from the kernel moves the view; the view
// moved by the mouse (or fitted, reset, switched to orthographic) is told to the kernel, at
// most every CAMERA_THROTTLE_MS.
import type { CameraState } from "../renderer/camera";
import type { Renderer } from "../renderer";
import type { ModelListeners } from "./model";

export const CAMERA_THROTTLE_MS = 200;

export class CameraTrait {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private applying = false;
  private sent = "";

  constructor(private readonly listeners: ModelListeners, private readonly renderer: Renderer) {
    listeners.on("change:camera", () => this.fromModel());
    renderer.controls.addEventListener("change", () => this.changed());
    this.fromModel();
  }

  private fromModel(): void {
    const state = this.listeners.model.get("camera") as Partial<CameraState> | null;
    if (!state || !Object.keys(state).length || JSON.stringify(state) === this.sent) return;
    this.applying = true;
    try {
      this.renderer.rig.apply(state);
    } finally {
      this.applying = false;
    }
    this.renderer.fitted = true; // the kernel placed it: the first frame does not move it
    this.renderer.requestRender();
    this.schedule(); // tell the kernel the whole state (it may have set only some keys)
  }

  private changed(): void {
    if (!this.applying) this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.send();
    }, CAMERA_THROTTLE_MS);
  }

  /** Tell the kernel where the camera is now (if that is news). */
  send(): void {
    const state = this.renderer.rig.state();
    const text = JSON.stringify(state);
    if (text === this.sent) return;
    this.sent = text;
    this.listeners.model.set("camera", state);
    this.listeners.model.save_changes();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
