// A picture of the view at any size: the renderer drawn once at ``width`` x ``height``
// pixels (pixel ratio 1; transparent background if asked), copied to a 2D canvas at once and
// encoded as PNG. The caller puts the renderer back to the canvas' own size.
import { Color, type Scene, type WebGLRenderer } from "three";
import type { CameraRig } from "./camera";

export class CaptureError extends Error {}

export function capture(renderer: WebGLRenderer, scene: Scene, rig: CameraRig, width: number, height: number, transparent: boolean): Promise<Blob> {
  const gl = renderer.getContext();
  const [maxW, maxH] = gl.getParameter(gl.MAX_VIEWPORT_DIMS) as Int32Array;
  const limit = Math.min(maxW, maxH, renderer.capabilities.maxTextureSize);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width <= limit && height <= limit))
    return Promise.reject(new CaptureError(`a picture of ${width} x ${height} pixels: this browser draws at most ${limit} x ${limit}`));
  const background = scene.background;
  const clearColor = renderer.getClearColor(new Color());
  const clearAlpha = renderer.getClearAlpha();
  const ratio = renderer.getPixelRatio();
  const out = document.createElement("canvas");
  try {
    rig.setAspect(width / height);
    renderer.setPixelRatio(1);
    renderer.setSize(width, height, false);
    if (transparent) {
      scene.background = null;
      renderer.setClearColor(0x000000, 0);
    }
    renderer.render(scene, rig.current);
    out.width = width;
    out.height = height;
    out.getContext("2d")!.drawImage(renderer.domElement, 0, 0);
  } finally {
    scene.background = background;
    renderer.setClearColor(clearColor, clearAlpha);
    renderer.setPixelRatio(ratio);
  }
  return new Promise((resolve, reject) =>
    out.toBlob((blob) => (blob ? resolve(blob) : reject(new CaptureError("the browser could not encode the picture"))), "image/png"),
  );
}
