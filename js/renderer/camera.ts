// The view's camera: perspective or orthographic (same position, target and up; the
// orthographic frustum shows at the target what the perspective one shows there), its state
// as the ``camera`` trait has it, and framing a sphere.
import { OrthographicCamera, PerspectiveCamera, Quaternion, Vector3 } from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

export type Vec3 = [number, number, number];

/** The ``camera`` trait: where the camera is, what it looks at, which way is up, the
 * (vertical) field of view in degrees, the projection and the zoom (orthographic). */
export interface CameraState {
  position: Vec3;
  target: Vec3;
  up: Vec3;
  fov: number;
  orthographic: boolean;
  zoom: number;
}

/** Where "reset" looks from (relative to the target) and which way is up. */
const HOME_DIRECTION = new Vector3(0.3, 0.4, 1).normalize();
const HOME_UP = new Vector3(0, 1, 0);

export type ViewCamera = PerspectiveCamera | OrthographicCamera;

/** The largest orthographic zoom: the camera trait's limit (look.py ``validate_camera``), so
 * that a camera the view reaches can be sent back as the trait or a bookmark. */
export const MAX_ZOOM = 1e4;

export class CameraRig {
  readonly perspective = new PerspectiveCamera(45, 1, 0.1, 1000);
  readonly orthographic = new OrthographicCamera(-1, 1, 1, -1, 0.1, 1000);
  /** Mouse orbit, zoom and pan of whichever camera draws. */
  readonly controls: OrbitControls;
  private aspect = 1;

  constructor(element: HTMLElement) {
    this.controls = new OrbitControls(this.perspective, element);
    this.controls.maxZoom = MAX_ZOOM;
  }

  /** The camera drawing now. */
  get current(): ViewCamera {
    return this.controls.object as ViewCamera;
  }

  get isOrthographic(): boolean {
    return this.current === this.orthographic;
  }

  setAspect(aspect: number): void {
    this.aspect = aspect;
    this.perspective.aspect = aspect;
    this.perspective.updateProjectionMatrix();
    this.updateOrthographic();
  }

  /** Switch the projection, keeping the view: what is at the target keeps its size. */
  setOrthographic(on: boolean): void {
    if (on === this.isOrthographic) return;
    const from = this.current, to = on ? this.orthographic : this.perspective;
    const target = this.controls.target;
    if (on) {
      this.orthographic.zoom = 1;
    } else {
      // Orthographic zoom becomes distance: closer by the zoom.
      const offset = from.position.clone().sub(target).divideScalar(this.orthographic.zoom || 1);
      from.position.copy(target).add(offset);
    }
    to.position.copy(from.position);
    to.up.copy(from.up);
    to.near = from.near;
    to.far = from.far;
    this.controls.object = to;
    this.updateOrthographic();
    to.lookAt(target);
    this.controls.update();
    // Nothing moved, so the controls tell no one: the view redraws, the trait follows.
    this.controls.dispatchEvent({ type: "change" });
  }

  /** The orthographic frustum: at the target as tall as the perspective view's there. */
  private updateOrthographic(): void {
    const distance = Math.max(1e-3, this.orthographic.position.distanceTo(this.controls.target));
    const half = distance * Math.tan((this.perspective.fov * Math.PI) / 360);
    const o = this.orthographic;
    o.top = half;
    o.bottom = -half;
    o.left = -half * this.aspect;
    o.right = half * this.aspect;
    o.updateProjectionMatrix();
  }

  state(): CameraState {
    const c = this.current;
    const v = (x: Vector3): Vec3 => [round(x.x), round(x.y), round(x.z)];
    return {
      position: v(c.position),
      target: v(this.controls.target),
      up: v(c.up),
      fov: round(this.perspective.fov),
      orthographic: this.isOrthographic,
      zoom: round(this.orthographic.zoom),
    };
  }

  /** Move to ``state`` (any subset of its keys). */
  apply(state: Partial<CameraState>): void {
    if (state.orthographic !== undefined) this.setOrthographic(state.orthographic);
    const c = this.current;
    if (state.fov !== undefined) {
      this.perspective.fov = state.fov;
      this.perspective.updateProjectionMatrix();
    }
    if (state.target) this.controls.target.set(...state.target);
    if (state.position) c.position.set(...state.position);
    if (state.up) this.setUp(new Vector3(...state.up).normalize());
    if (state.zoom !== undefined && this.isOrthographic) this.orthographic.zoom = state.zoom;
    this.keepInDepth();
    this.updateOrthographic();
    c.lookAt(this.controls.target);
    this.controls.update();
  }

  /** Look at a sphere (``center``, ``radius``) from where the camera is (or from
   * ``direction``), the whole of it in view. */
  frame(center: Vector3, radius: number, direction?: Vector3): void {
    const c = this.current;
    const fov = (this.perspective.fov * Math.PI) / 180;
    const fitFov = this.aspect < 1 ? 2 * Math.atan(Math.tan(fov / 2) * this.aspect) : fov;
    const distance = radius / Math.sin(fitFov / 2);
    const dir = direction?.clone() ?? c.position.clone().sub(this.controls.target);
    if (dir.lengthSq() < 1e-9) dir.copy(HOME_DIRECTION);
    dir.normalize();
    this.controls.target.copy(center);
    c.position.copy(center).addScaledVector(dir, distance);
    this.orthographic.zoom = 1;
    this.keepInDepth(radius);
    this.updateOrthographic();
    this.controls.update();
  }

  /** Back to the home direction and up, framing the sphere. */
  home(center: Vector3, radius: number): void {
    this.setUp(HOME_UP);
    this.frame(center, radius, HOME_DIRECTION);
  }

  private setUp(up: Vector3): void {
    this.perspective.up.copy(up);
    this.orthographic.up.copy(up);
    // OrbitControls orbits about its ``up`` from construction: tell it the new one.
    const controls = this.controls as unknown as { _quat: Quaternion; _quatInverse: Quaternion };
    controls._quat.setFromUnitVectors(up, new Vector3(0, 1, 0));
    controls._quatInverse.copy(controls._quat).invert();
  }

  /** Near and far planes around the target, for a scene of about ``radius``. */
  private keepInDepth(radius?: number): void {
    const distance = this.current.position.distanceTo(this.controls.target);
    const r = radius ?? Math.max(distance, 1);
    for (const cam of [this.perspective, this.orthographic]) {
      cam.near = Math.max(0.01, distance / 100);
      cam.far = distance * 20 + r * 4;
      cam.updateProjectionMatrix();
    }
  }
}

/** To 1e-5 (Å, degrees): enough for a camera, and no float noise in the trait. */
function round(x: number): number {
  return Number(x.toFixed(5)) + 0; // + 0: no -0
}
