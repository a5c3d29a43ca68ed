import { PerspectiveCamera } from "three";
import { describe, expect, it } from "vitest";
import { pickSphere } from "../renderer/view";

describe("pickSphere", () => {
  // A camera on the z axis looking at the origin, a 100 x 100 view.
  const camera = new PerspectiveCamera(45, 1, 0.1, 100);
  camera.position.set(0, 0, 10);
  camera.lookAt(0, 0, 0);
  // Two spheres on the view axis (the second nearer), one off to the right.
  const positions = [0, 0, 0, 0, 0, 2, 3, 0, 0];
  const radii = [0.5, 0.5, 0.5];

  it("picks the nearest sphere under the point", () => {
    expect(pickSphere(camera, 100, 100, positions, radii, 3, 50, 50)).toBe(1);
  });

  it("picks a sphere off the axis where it shows", () => {
    // x = 3 at distance 10: 3 / tan(22.5°) / 10 of the half-width right of the centre
    const x = 50 + (3 / (10 * Math.tan(Math.PI / 8))) * 50;
    expect(pickSphere(camera, 100, 100, positions, radii, 3, x, 50)).toBe(2);
  });

  it("picks nothing beside the spheres", () => {
    expect(pickSphere(camera, 100, 100, positions, radii, 3, 5, 5)).toBeNull();
    expect(pickSphere(camera, 100, 100, positions, radii, 0, 50, 50)).toBeNull();
  });
});
