// Atoms as impostor spheres: one eye-facing quad per atom, the sphere ray-cast in the
// fragment shader with correct depth. Per frame only the instance position attribute
// (12 B/atom) changes, pointed at the frame's own float32 array (no copy). Colours and radii
// (the element's, or the frame's arrays.colors / arrays.radii, or a property's through a
// colour map) are redone only when the elements change or a frame carries its own; selected
// atoms get a gold rim.
import {
  Box3,
  BufferAttribute,
  Color,
  DynamicDrawUsage,
  InstancedBufferAttribute,
  InstancedBufferGeometry,
  Mesh,
  ShaderMaterial,
  SRGBColorSpace,
  Vector3,
} from "three";
import { NDArray } from "../../codec";
import { colorOf, radiusOf } from "../../elements";
import type { ColorKey, Coloring } from "../coloring";
import { atomRadius, BALL_SCALE, Look } from "../look";
import type { Layer, ShownFrame } from "./layer";
import { SHADE_GLSL } from "./shading";

/** Ball-and-stick atoms are drawn at this fraction of their covalent radius. */
export const RADIUS_SCALE = BALL_SCALE;

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
${SHADE_GLSL}
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

export class AtomsLayer implements Layer {
  readonly object: Mesh<InstancedBufferGeometry, ShaderMaterial>;
  /** Atomic numbers of the atoms drawn (a copy: the elements last styled). */
  numbers: Uint8Array = new Uint8Array(0);
  /** Radii drawn, Å (picking uses them). */
  radii: Float32Array = new Float32Array(0);
  /** Colours drawn, linear RGB 0-1 (the bonds take theirs from here). */
  colors: Float32Array = new Float32Array(0);
  private selected = new Set<number>();
  /** What the colouring by property showed on the last frame (null: none). */
  colorKey: ColorKey | null = null;
  private coloring: Coloring | null = null;
  private styledFrame: ShownFrame["frame"] | null = null;
  private ownColors = false; // the colours drawn are not the elements' (frame's or property's)
  private ownRadii = false; // the radii came from the frame's arrays
  private lookVersion = -1;

  /** Atoms drawn as ``look`` says (representation, scale, hidden). */
  constructor(private readonly look: Look = new Look()) {
    const material = new ShaderMaterial({ vertexShader: IMPOSTOR_VERTEX, fragmentShader: IMPOSTOR_FRAGMENT });
    this.object = new Mesh(this.makeGeometry(0), material);
    this.object.frustumCulled = false;
    // Drawn after the bonds and the cell (opaque objects otherwise go by material id).
    this.object.renderOrder = 1;
  }

  /** Quads for ``count`` atoms, their per-atom attributes zeroed. */
  private makeGeometry(count: number): InstancedBufferGeometry {
    const geometry = new InstancedBufferGeometry();
    geometry.setAttribute("position", new BufferAttribute(new Float32Array([-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0]), 3));
    geometry.setIndex([0, 1, 2, 0, 2, 3]);
    const positions = new InstancedBufferAttribute(new Float32Array(count * 3), 3);
    positions.setUsage(DynamicDrawUsage);
    geometry.setAttribute("instancePosition", positions);
    geometry.setAttribute("instanceRadius", new InstancedBufferAttribute(new Float32Array(count), 1));
    geometry.setAttribute("instanceColor", new InstancedBufferAttribute(new Float32Array(count * 3), 3));
    geometry.setAttribute("instanceSelected", new InstancedBufferAttribute(new Float32Array(count), 1));
    geometry.instanceCount = count;
    this.radii = geometry.getAttribute("instanceRadius").array as Float32Array;
    this.colors = geometry.getAttribute("instanceColor").array as Float32Array;
    this.numbers = new Uint8Array(0);
    this.styledFrame = null;
    return geometry;
  }

  /** Positions always; colours and radii when the elements changed, the frame has its own,
   * or atoms are coloured by a property (then every frame). */
  update(shown: ShownFrame): void {
    const { frame } = shown;
    const count = frame.numbers.length;
    if (this.object.geometry.instanceCount !== count) {
      this.object.geometry.dispose();
      this.object.geometry = this.makeGeometry(count);
    }
    const geometry = this.object.geometry;
    const positions = geometry.getAttribute("instancePosition") as InstancedBufferAttribute;
    // Draw straight from the shown array (no copy).
    positions.array = shown.positions;
    positions.needsUpdate = true;
    const lookChanged = this.lookVersion !== this.look.version;
    if (frame === this.styledFrame && !lookChanged) return; // an edit: positions only
    this.styledFrame = frame;
    // Per-atom colours (N,3: 0-1, or 0-255 as uint8) and radii (N) from the frame's arrays
    // replace the element's where a frame has them; a colouring by property replaces both.
    const key = (this.colorKey = this.coloring?.apply(frame, this.colors) ?? null);
    const colors = key ? null : perAtom(frame.fields["arrays.colors"], count * 3);
    const radii = perAtom(frame.fields["arrays.radii"], count);
    const elements = !sameNumbers(this.numbers, frame.numbers);
    if (elements) this.numbers = frame.numbers.slice();
    if (radii || this.ownRadii || elements || lookChanged) {
      this.lookVersion = this.look.version;
      const { rep, atomScale, bondScale } = this.look.looks(frame.numbers);
      for (let i = 0; i < count; i++) {
        // A frame's own radii are its ball-and-stick radii.
        const radius = radii ? radii[i] / RADIUS_SCALE : radiusOf(frame.numbers[i]);
        this.radii[i] = atomRadius(rep[i], radius, atomScale[i], bondScale[i]);
      }
      geometry.getAttribute("instanceRadius").needsUpdate = true;
    }
    const recolor = !key && (colors || this.ownColors || elements);
    if (recolor) {
      const c = new Color();
      const scale = colors instanceof Uint8Array ? 1 / 255 : 1;
      for (let i = 0; i < count; i++) {
        if (colors) c.setRGB(colors[3 * i] * scale, colors[3 * i + 1] * scale, colors[3 * i + 2] * scale, SRGBColorSpace);
        else c.setHex(colorOf(frame.numbers[i]));
        this.colors[3 * i] = c.r;
        this.colors[3 * i + 1] = c.g;
        this.colors[3 * i + 2] = c.b;
      }
    }
    // Uploaded only when they changed: a new frame of the same elements keeps its colours.
    if (key || recolor) geometry.getAttribute("instanceColor").needsUpdate = true;
    this.ownRadii = !!radii;
    this.ownColors = !!(colors || key);
    if (elements) this.applySelection();
  }

  /** Colour the atoms by a property from the next update on (null: by element, or by the
   * frame's own colours). */
  setColoring(coloring: Coloring | null): void {
    this.coloring = coloring;
    this.colorKey = null;
    this.styledFrame = null;
  }

  /** Highlight the atoms ``indices`` (a gold rim), and only those. */
  setSelection(indices: Iterable<number>): void {
    this.selected = new Set(indices);
    this.applySelection();
  }

  private applySelection(): void {
    const attribute = this.object.geometry.getAttribute("instanceSelected") as InstancedBufferAttribute;
    const array = attribute.array as Float32Array;
    array.fill(0);
    for (const i of this.selected) if (i >= 0 && i < array.length) array[i] = 1;
    attribute.needsUpdate = true;
  }

  expandBounds(box: Box3): void {
    const p = this.object.geometry.getAttribute("instancePosition").array as Float32Array;
    const v = new Vector3();
    for (let i = 0; i < this.numbers.length; i++) box.expandByPoint(v.set(p[3 * i], p[3 * i + 1], p[3 * i + 2]));
  }

  dispose(): void {
    this.object.geometry.dispose();
    this.object.material.dispose();
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
