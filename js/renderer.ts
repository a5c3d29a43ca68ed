// three.js view of one frame: atoms (impostor spheres: one eye-facing quad per atom, the
// sphere ray-cast in the fragment shader), bonds (instanced cylinders, each half in its
// atom's colour), the cell, an orbit camera. Per frame only the instance position attribute
// (12 B/atom) and the bond buffers change.
import {
  BufferAttribute,
  BufferGeometry,
  Color,
  CylinderGeometry,
  DynamicDrawUsage,
  InstancedBufferAttribute,
  InstancedBufferGeometry,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  PerspectiveCamera,
  Scene,
  ShaderMaterial,
  SRGBColorSpace,
  Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { computeBonds } from "./bonds";
import { NDArray } from "./codec";
import { colorOf, radiusOf } from "./elements";
import type { Frame } from "./frames";

export const BOND_LIMIT = 100000;
const RADIUS_SCALE = 0.5;
const BOND_RADIUS = 0.12;

const LIGHT = /* glsl */ `
vec3 shade(vec3 color, vec3 n, vec3 viewPos, float selected) {
  vec3 l = normalize(vec3(0.35, 0.55, 1.0));
  float diff = max(dot(n, l), 0.0);
  vec3 v = normalize(-viewPos);
  float spec = pow(max(dot(reflect(-l, n), v), 0.0), 40.0);
  vec3 c = color * (0.38 + 0.62 * diff) + vec3(0.22) * spec;
  float rim = 1.0 - max(dot(n, v), 0.0);
  return mix(c, vec3(1.0, 0.8, 0.1), selected * (0.35 + 0.65 * smoothstep(0.45, 0.8, rim)));
}`;

const IMPOSTOR_VERTEX = /* glsl */ `
attribute vec3 instancePosition;
attribute float instanceRadius;
attribute vec3 instanceColor;
attribute float instanceSelected;
varying vec3 vViewPos;
varying vec3 vCenter;
varying float vRadius;
varying vec3 vColor;
varying float vSelected;
void main() {
  vec4 center = modelViewMatrix * vec4(instancePosition, 1.0);
  // A square facing the eye, just large enough for the sphere's silhouette: the cone of
  // tangents from the eye meets the plane through the centre in a circle of radius
  // r / sqrt(1 - r^2 / d^2), at any angle off the view axis.
  vec3 w = normalize(center.xyz);
  vec3 u = normalize(cross(w, abs(w.y) < 0.99 ? vec3(0.0, 1.0, 0.0) : vec3(1.0, 0.0, 0.0)));
  vec3 v = cross(u, w);
  float r2 = instanceRadius * instanceRadius;
  float size = 1.01 * instanceRadius / sqrt(max(1.0 - r2 / dot(center.xyz, center.xyz), 1e-4));
  vec3 corner = center.xyz + (u * position.x + v * position.y) * size;
  vViewPos = corner;
  vCenter = center.xyz;
  vRadius = instanceRadius;
  vColor = instanceColor;
  vSelected = instanceSelected;
  gl_Position = projectionMatrix * vec4(corner, 1.0);
}`;

const IMPOSTOR_FRAGMENT = /* glsl */ `
uniform mat4 projectionMatrix;
varying vec3 vViewPos;
varying vec3 vCenter;
varying float vRadius;
varying vec3 vColor;
varying float vSelected;
${LIGHT}
void main() {
  vec3 dir = normalize(vViewPos);
  float b = dot(dir, vCenter);
  float c = dot(vCenter, vCenter) - vRadius * vRadius;
  float disc = b * b - c;
  if (disc < 0.0) discard;
  float t = b - sqrt(disc);
  vec3 hit = dir * t;
  vec3 n = (hit - vCenter) / vRadius;
  vec4 clip = projectionMatrix * vec4(hit, 1.0);
  gl_FragDepth = 0.5 * (clip.z / clip.w) + 0.5;
  gl_FragColor = vec4(shade(vColor, n, hit, vSelected), 1.0);
}`;

const BOND_VERTEX = /* glsl */ `
attribute vec3 bondStart;
attribute vec3 bondEnd;
attribute vec3 bondColorStart;
attribute vec3 bondColorEnd;
uniform float bondRadius;
varying vec3 vNormal;
varying vec3 vColorStart;
varying vec3 vColorEnd;
varying float vAlong;
varying vec3 vViewPos;
void main() {
  vec3 axis = bondEnd - bondStart;
  float len = length(axis);
  vec3 y = len > 0.0 ? axis / len : vec3(0.0, 1.0, 0.0);
  vec3 t = abs(y.x) < 0.9 ? vec3(1.0, 0.0, 0.0) : vec3(0.0, 1.0, 0.0);
  vec3 x = normalize(cross(y, t));
  vec3 z = cross(x, y);
  vec3 p = bondStart + x * position.x * bondRadius + y * (position.y + 0.5) * len + z * position.z * bondRadius;
  vec4 mv = modelViewMatrix * vec4(p, 1.0);
  vViewPos = mv.xyz;
  vNormal = normalize(normalMatrix * (x * normal.x + z * normal.z));
  vColorStart = bondColorStart;
  vColorEnd = bondColorEnd;
  vAlong = position.y + 0.5;
  gl_Position = projectionMatrix * mv;
}`;

const BOND_FRAGMENT = /* glsl */ `
varying vec3 vNormal;
varying vec3 vColorStart;
varying vec3 vColorEnd;
varying float vAlong;
varying vec3 vViewPos;
${LIGHT}
void main() {
  vec3 color = vAlong < 0.5 ? vColorStart : vColorEnd;  // each half in its atom's colour
  gl_FragColor = vec4(shade(color, normalize(vNormal), vViewPos, 0.0), 1.0);
}`;

function growAttribute(geometry: BufferGeometry, name: string, itemSize: number, count: number): InstancedBufferAttribute {
  let attribute = geometry.getAttribute(name) as InstancedBufferAttribute | undefined;
  if (!attribute || attribute.count < count) {
    const capacity = Math.max(count, Math.ceil((attribute?.count ?? 0) * 1.5), 16);
    attribute = new InstancedBufferAttribute(new Float32Array(capacity * itemSize), itemSize);
    attribute.setUsage(DynamicDrawUsage);
    geometry.setAttribute(name, attribute);
  }
  return attribute;
}

export interface RenderedInfo {
  atoms: number;
  bonds: number;
  ms: number;
}

let software: boolean | undefined;

/** Whether WebGL is drawn by the CPU (SwiftShader, llvmpipe): multisampling there costs
 * about twice the draw time, so the renderer goes without it. */
export function softwareRendering(): boolean {
  if (software !== undefined) return software;
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return (software = false);
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return (software = /swiftshader|llvmpipe|softpipe|software/i.test(name));
}

export class Renderer {
  readonly canvas: HTMLCanvasElement;
  readonly renderer: WebGLRenderer;
  readonly scene = new Scene();
  readonly camera = new PerspectiveCamera(45, 1, 0.1, 1000);
  readonly controls: OrbitControls;
  onRendered: ((info: RenderedInfo) => void) | null = null;
  showBonds = true;
  private atomGeometry: InstancedBufferGeometry | null = null;
  private atomMesh: Mesh | null = null;
  private bondGeometry: InstancedBufferGeometry;
  private bondMesh: Mesh;
  private cellLines: LineSegments;
  private numbers: Uint8Array = new Uint8Array(0);
  private radii: Float32Array = new Float32Array(0);
  /** The positions on screen: the shown frame's own array until an edit makes a copy. */
  positions: Float32Array = new Float32Array(0);
  private ownPositions = false;
  private styled = false; // colours or radii came from the shown frame's arrays
  private selected = new Set<number>();
  private pending = 0;
  private resizeObserver: ResizeObserver | null = null;
  private bondCount = 0;
  private fitted = false;
  private lastCell: Float32Array | null = null;

  constructor(private readonly container: HTMLElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.style.display = "block";
    this.canvas.style.width = "100%";
    this.canvas.style.height = "100%";
    this.canvas.style.touchAction = "none";
    container.appendChild(this.canvas);
    this.renderer = new WebGLRenderer({ canvas: this.canvas, antialias: !softwareRendering(), preserveDrawingBuffer: true, alpha: false });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.enableDamping = false;
    this.controls.addEventListener("change", () => this.requestRender());

    const bondShape = new CylinderGeometry(1, 1, 1, 6, 1, true);
    this.bondGeometry = new InstancedBufferGeometry();
    this.bondGeometry.index = bondShape.index;
    this.bondGeometry.setAttribute("position", bondShape.getAttribute("position"));
    this.bondGeometry.setAttribute("normal", bondShape.getAttribute("normal"));
    this.bondGeometry.instanceCount = 0;
    const bondMaterial = new ShaderMaterial({
      vertexShader: BOND_VERTEX,
      fragmentShader: BOND_FRAGMENT,
      uniforms: { bondRadius: { value: BOND_RADIUS } },
    });
    this.bondMesh = new Mesh(this.bondGeometry, bondMaterial);
    this.bondMesh.frustumCulled = false;
    this.scene.add(this.bondMesh);

    const cellGeometry = new BufferGeometry();
    cellGeometry.setAttribute("position", new BufferAttribute(new Float32Array(24 * 3), 3));
    this.cellLines = new LineSegments(cellGeometry, new LineBasicMaterial({ color: 0x888888 }));
    this.cellLines.frustumCulled = false;
    this.cellLines.visible = false;
    this.scene.add(this.cellLines);

    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
  }

  setBackground(color: string): void {
    const c = new Color();
    try {
      c.setStyle(color);
    } catch {
      c.set(0xffffff);
    }
    this.scene.background = c;
    const luminance = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    (this.cellLines.material as LineBasicMaterial).color.set(luminance > 0.5 ? 0x666666 : 0xaaaaaa);
    this.requestRender();
  }

  get atomCount(): number {
    return this.numbers.length;
  }

  resize(): void {
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  private buildAtoms(count: number): void {
    if (this.atomMesh) {
      this.scene.remove(this.atomMesh);
      this.atomGeometry?.dispose();
      (this.atomMesh.material as ShaderMaterial).dispose();
    }
    const geometry = new InstancedBufferGeometry();
    geometry.setAttribute("position", new BufferAttribute(new Float32Array([-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0]), 3));
    geometry.setIndex([0, 1, 2, 0, 2, 3]);
    const material = new ShaderMaterial({ vertexShader: IMPOSTOR_VERTEX, fragmentShader: IMPOSTOR_FRAGMENT });
    const positions = new InstancedBufferAttribute(new Float32Array(count * 3), 3);
    positions.setUsage(DynamicDrawUsage);
    geometry.setAttribute("instancePosition", positions);
    geometry.setAttribute("instanceRadius", new InstancedBufferAttribute(new Float32Array(count), 1));
    geometry.setAttribute("instanceColor", new InstancedBufferAttribute(new Float32Array(count * 3), 3));
    geometry.setAttribute("instanceSelected", new InstancedBufferAttribute(new Float32Array(count), 1));
    geometry.instanceCount = count;
    this.atomGeometry = geometry;
    this.atomMesh = new Mesh(geometry, material);
    this.atomMesh.frustumCulled = false;
    this.scene.add(this.atomMesh);
    this.positions = positions.array as Float32Array;
    this.ownPositions = true;
    this.numbers = new Uint8Array(0);
  }

  /** Show ``frame``: positions always; colours and radii when the elements changed. */
  setFrame(frame: Frame): void {
    const count = frame.numbers.length;
    if (!this.atomGeometry || this.atomGeometry.instanceCount !== count) this.buildAtoms(count);
    const geometry = this.atomGeometry!;
    const positions = geometry.getAttribute("instancePosition") as InstancedBufferAttribute;
    // Draw straight from the frame's float32 array (no copy); an edit copies it first.
    positions.array = this.positions = frame.display;
    this.ownPositions = false;
    positions.needsUpdate = true;
    // Per-atom colours (N,3: 0-1, or 0-255 as uint8) and radii (N) from the frame's arrays
    // replace the element's where a frame has them.
    const colors = perAtom(frame.fields["arrays.colors"], count * 3);
    const radii = perAtom(frame.fields["arrays.radii"], count);
    const styled = !!(colors || radii);
    if (styled || this.styled || !sameNumbers(this.numbers, frame.numbers)) {
      this.numbers = frame.numbers.slice();
      const radius = geometry.getAttribute("instanceRadius") as InstancedBufferAttribute;
      const color = geometry.getAttribute("instanceColor") as InstancedBufferAttribute;
      const c = new Color();
      const scale = colors instanceof Uint8Array ? 1 / 255 : 1;
      this.radii = radius.array as Float32Array;
      for (let i = 0; i < count; i++) {
        this.radii[i] = radii ? radii[i] : radiusOf(frame.numbers[i]) * RADIUS_SCALE;
        if (colors) c.setRGB(colors[3 * i] * scale, colors[3 * i + 1] * scale, colors[3 * i + 2] * scale, SRGBColorSpace);
        else c.setHex(colorOf(frame.numbers[i]));
        color.array[3 * i] = c.r;
        color.array[3 * i + 1] = c.g;
        color.array[3 * i + 2] = c.b;
      }
      radius.needsUpdate = true;
      color.needsUpdate = true;
      this.styled = styled;
      this.applySelection();
    }
    this.updateBonds();
    this.setCell(frame.cell);
    if (!this.fitted) {
      this.fit();
      this.fitted = true;
    }
    this.requestRender();
  }

  /** The positions array to change in place (dragging): a copy of the frame's own. */
  editablePositions(): Float32Array {
    if (!this.ownPositions && this.atomGeometry) {
      const positions = this.atomGeometry.getAttribute("instancePosition") as InstancedBufferAttribute;
      positions.array = this.positions = this.positions.slice();
      this.ownPositions = true;
    }
    return this.positions;
  }

  /** Positions changed in place (dragging): upload them and the bonds. */
  positionsChanged(): void {
    if (!this.atomGeometry) return;
    (this.atomGeometry.getAttribute("instancePosition") as InstancedBufferAttribute).needsUpdate = true;
    this.updateBonds();
    this.requestRender();
  }

  private updateBonds(): void {
    const n = this.numbers.length;
    if (!this.showBonds || n > BOND_LIMIT) {
      this.bondGeometry.instanceCount = 0;
      this.bondCount = 0;
      return;
    }
    const pairs = computeBonds(this.positions, this.numbers);
    const bonds = pairs.length / 2;
    this.bondCount = bonds;
    // One cylinder per bond, each half in the colour of its atom.
    const starts = growAttribute(this.bondGeometry, "bondStart", 3, bonds);
    const ends = growAttribute(this.bondGeometry, "bondEnd", 3, bonds);
    const startColors = growAttribute(this.bondGeometry, "bondColorStart", 3, bonds);
    const endColors = growAttribute(this.bondGeometry, "bondColorEnd", 3, bonds);
    const s = starts.array as Float32Array, e = ends.array as Float32Array;
    const cs = startColors.array as Float32Array, ce = endColors.array as Float32Array;
    const atomColors = this.atomGeometry!.getAttribute("instanceColor").array as Float32Array;
    const p = this.positions;
    for (let b = 0; b < bonds; b++) {
      const i = pairs[2 * b], j = pairs[2 * b + 1];
      for (let k = 0; k < 3; k++) {
        s[3 * b + k] = p[3 * i + k];
        e[3 * b + k] = p[3 * j + k];
        cs[3 * b + k] = atomColors[3 * i + k];
        ce[3 * b + k] = atomColors[3 * j + k];
      }
    }
    starts.needsUpdate = ends.needsUpdate = startColors.needsUpdate = endColors.needsUpdate = true;
    this.bondGeometry.instanceCount = bonds;
  }

  private setCell(cell: ArrayLike<number> | null): void {
    const nonzero = !!cell && Array.from(cell).some((v) => v !== 0);
    this.cellLines.visible = nonzero;
    if (!nonzero || !cell) {
      this.lastCell = null;
      return;
    }
    if (this.lastCell && this.lastCell.every((v, i) => v === cell[i])) return;
    this.lastCell = Float32Array.from(cell);
    const a = new Vector3(cell[0], cell[1], cell[2]);
    const b = new Vector3(cell[3], cell[4], cell[5]);
    const c = new Vector3(cell[6], cell[7], cell[8]);
    const o = new Vector3();
    const corners = [o, a, b, c, a.clone().add(b), a.clone().add(c), b.clone().add(c), a.clone().add(b).add(c)];
    const edges = [[0, 1], [0, 2], [0, 3], [1, 4], [1, 5], [2, 4], [2, 6], [3, 5], [3, 6], [4, 7], [5, 7], [6, 7]];
    const attribute = this.cellLines.geometry.getAttribute("position") as BufferAttribute;
    edges.forEach(([u, v], k) => {
      attribute.setXYZ(2 * k, corners[u].x, corners[u].y, corners[u].z);
      attribute.setXYZ(2 * k + 1, corners[v].x, corners[v].y, corners[v].z);
    });
    attribute.needsUpdate = true;
  }

  setSelection(indices: Iterable<number>): void {
    this.selected = new Set(indices);
    this.applySelection();
    this.requestRender();
  }

  private applySelection(): void {
    if (!this.atomGeometry) return;
    const attribute = this.atomGeometry.getAttribute("instanceSelected") as InstancedBufferAttribute;
    const array = attribute.array as Float32Array;
    array.fill(0);
    for (const i of this.selected) if (i >= 0 && i < array.length) array[i] = 1;
    attribute.needsUpdate = true;
  }

  /** Point the camera at everything (atoms and cell). */
  fit(): void {
    const p = this.positions;
    const n = this.numbers.length || p.length / 3;
    const min = new Vector3(Infinity, Infinity, Infinity);
    const max = new Vector3(-Infinity, -Infinity, -Infinity);
    const v = new Vector3();
    for (let i = 0; i < n; i++) {
      v.set(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
      min.min(v);
      max.max(v);
    }
    if (this.lastCell) {
      const c = this.lastCell;
      for (const [x, y, z] of [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]]) {
        v.set(x * c[0] + y * c[3] + z * c[6], x * c[1] + y * c[4] + z * c[7], x * c[2] + y * c[5] + z * c[8]);
        min.min(v);
        max.max(v);
      }
    }
    if (!Number.isFinite(min.x)) {
      min.set(-5, -5, -5);
      max.set(5, 5, 5);
    }
    const center = min.clone().add(max).multiplyScalar(0.5);
    const radius = Math.max(2, max.distanceTo(min) / 2 + 1.5);
    const fov = (this.camera.fov * Math.PI) / 180;
    const fitFov = this.camera.aspect < 1 ? 2 * Math.atan(Math.tan(fov / 2) * this.camera.aspect) : fov;
    const distance = radius / Math.sin(fitFov / 2);
    const direction = this.camera.position.clone().sub(this.controls.target);
    if (direction.lengthSq() < 1e-9) direction.set(0.3, 0.4, 1);
    direction.normalize();
    this.controls.target.copy(center);
    this.camera.position.copy(center).addScaledVector(direction, distance);
    this.camera.near = Math.max(0.01, distance / 100);
    this.camera.far = distance * 20 + radius * 4;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.requestRender();
  }

  /** The atom under a point of the canvas (CSS pixels from its top left), nearest first. */
  pick(x: number, y: number): number | null {
    const n = this.numbers.length;
    if (!n) return null;
    const width = this.canvas.clientWidth, height = this.canvas.clientHeight;
    this.camera.updateMatrixWorld();
    const view = this.camera.matrixWorldInverse.elements;
    const proj = this.camera.projectionMatrix.elements;
    const p = this.positions;
    const scale = height / 2 / Math.tan((this.camera.fov * Math.PI) / 360);
    let best: number | null = null;
    let bestDepth = Infinity;
    for (let i = 0; i < n; i++) {
      const px = p[3 * i], py = p[3 * i + 1], pz = p[3 * i + 2];
      const vx = view[0] * px + view[4] * py + view[8] * pz + view[12];
      const vy = view[1] * px + view[5] * py + view[9] * pz + view[13];
      const vz = view[2] * px + view[6] * py + view[10] * pz + view[14];
      if (vz >= 0) continue;
      const depth = -vz;
      const sx = ((proj[0] * vx) / depth + 1) * 0.5 * width;
      const sy = (1 - (proj[5] * vy) / depth) * 0.5 * height;
      const r = (this.radii[i] * scale) / depth;
      const dx = sx - x, dy = sy - y;
      if (dx * dx + dy * dy <= r * r && depth < bestDepth) {
        best = i;
        bestDepth = depth;
      }
    }
    return best;
  }

  /** Where a canvas point meets the plane facing the camera through ``through``. */
  pointOnPlane(x: number, y: number, through: Vector3): Vector3 {
    const ndc = new Vector3((x / this.canvas.clientWidth) * 2 - 1, -(y / this.canvas.clientHeight) * 2 + 1, 0.5);
    const origin = this.camera.position.clone();
    const dir = ndc.unproject(this.camera).sub(origin).normalize();
    const normal = this.camera.getWorldDirection(new Vector3());
    const t = through.clone().sub(origin).dot(normal) / dir.dot(normal);
    return origin.addScaledVector(dir, t);
  }

  requestRender(): void {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.renderNow();
    });
  }

  /** Draw now what a pending request would draw on the next animation frame. */
  flush(): boolean {
    if (!this.pending) return false;
    cancelAnimationFrame(this.pending);
    this.pending = 0;
    this.renderNow();
    return true;
  }

  renderNow(): void {
    const t0 = performance.now();
    this.renderer.render(this.scene, this.camera);
    this.onRendered?.({ atoms: this.numbers.length, bonds: this.bondCount, ms: performance.now() - t0 });
  }

  screenshot(): string {
    this.renderer.render(this.scene, this.camera);
    return this.canvas.toDataURL("image/png");
  }

  dispose(): void {
    if (this.pending) cancelAnimationFrame(this.pending);
    this.resizeObserver?.disconnect();
    this.controls.dispose();
    this.atomGeometry?.dispose();
    this.bondGeometry.dispose();
    this.cellLines.geometry.dispose();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.canvas.remove();
  }
}

/** A per-atom array of ``size`` numbers, if the frame has it with that size. */
function perAtom(value: unknown, size: number): ArrayLike<number> | null {
  if (!(value instanceof NDArray) || value.size !== size || typeof value.data[0] === "bigint") return null;
  return value.data as ArrayLike<number>;
}

function sameNumbers(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  // Four atoms per comparison where both arrays allow a 32-bit view.
  const words = a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 ? a.length >> 2 : 0;
  const wa = new Int32Array(a.buffer, a.byteOffset, words);
  const wb = new Int32Array(b.buffer, b.byteOffset, words);
  for (let i = 0; i < words; i++) if (wa[i] !== wb[i]) return false;
  for (let i = words * 4; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
