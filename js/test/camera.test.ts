// The camera rig without WebGL: the trait's state round trip, the orthographic switch keeping
// the view, framing, and picking through an orthographic camera.
import { Vector3 } from "three";
import { describe, expect, it } from "vitest";
import { CameraRig, MAX_ZOOM } from "../renderer/camera";
import { pickSphere } from "../renderer/view";

function rig(): CameraRig {
  const r = new CameraRig(null as unknown as HTMLElement); // no DOM: no pointer listeners
  r.setAspect(1);
  return r;
}

describe("CameraRig", () => {
  it("applies a state and reads it back, keeping the keys not given", () => {
    const r = rig();
    r.apply({ position: [0, 0, 20], target: [1, 2, 3], up: [0, 0, 1], fov: 30 });
    expect(r.state()).toEqual({ position: [0, 0, 20], target: [1, 2, 3], up: [0, 0, 1], fov: 30, orthographic: false, zoom: 1 });
    r.apply({ fov: 50 });
    expect(r.state()).toMatchObject({ position: [0, 0, 20], target: [1, 2, 3], fov: 50 });
  });

  it("switches to orthographic and back keeping what is at the target the same size", () => {
    const r = rig();
    r.apply({ position: [0, 0, 10], target: [0, 0, 0], fov: 90 });
    r.setOrthographic(true);
    expect(r.isOrthographic).toBe(true);
    expect(r.state().position).toEqual([0, 0, 10]);
    expect(r.orthographic.top).toBeCloseTo(10 * Math.tan(Math.PI / 4));
    r.orthographic.zoom = 2; // zoomed in with the wheel
    r.setOrthographic(false);
    expect(r.current.position.z).toBeCloseTo(5); // closer by the zoom
    expect(r.state().orthographic).toBe(false);
  });

  it("zooms no further than the camera trait allows (look.py: zoom <= 1e4)", () => {
    expect(MAX_ZOOM).toBe(1e4);
    expect(rig().controls.maxZoom).toBe(MAX_ZOOM);
  });

  it("frames a sphere from the home direction", () => {
    const r = rig();
    r.home(new Vector3(1, 1, 1), 5);
    const s = r.state();
    expect(s.target).toEqual([1, 1, 1]);
    const d = new Vector3(...s.position).sub(new Vector3(1, 1, 1));
    expect(d.length()).toBeCloseTo(5 / Math.sin((45 * Math.PI) / 360), 3);
    expect(d.normalize().z).toBeGreaterThan(0.8);
  });

  it("picks through an orthographic camera", () => {
    const r = rig();
    r.apply({ position: [0, 0, 10], target: [0, 0, 0], orthographic: true });
    const positions = [0, 0, 0, 3, 0, 0];
    const radii = [0.5, 0.5];
    // The view is 2 * 10 * tan(22.5°) ≈ 8.28 Å tall in 100 px: atom 1 sits 36 px right.
    r.current.updateMatrixWorld();
    expect(pickSphere(r.current, 100, 100, positions, radii, 2, 50, 50)).toBe(0);
    expect(pickSphere(r.current, 100, 100, positions, radii, 2, 50 + 3 * (100 / 8.284), 50)).toBe(1);
    expect(pickSphere(r.current, 100, 100, positions, [0.5, 0], 2, 50 + 3 * (100 / 8.284), 50)).toBeNull(); // hidden
  });
});
