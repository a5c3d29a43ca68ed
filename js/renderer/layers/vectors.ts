// Arrows for an N x 3 per-atom property (forces, velocities): one instanced arrow (shaft and
// head) per atom, from the atom's drawn position (the positions buffer itself, no copy)
// along the vector times a scale, in one colour. Only the vectors' buffer changes per frame.
import {
  BufferAttribute,
  Color,
  ConeGeometry,
  CylinderGeometry,
  DynamicDrawUsage,
  InstancedBufferAttribute,
  InstancedBufferGeometry,
  Mesh,
  ShaderMaterial,
} from "three";
import type { Frame } from "../../frames";
import { vectorValues } from "../../properties";
import { type Layer, setInstanced, type ShownFrame } from "./layer";
import { SHADE_GLSL } from "./shading";

/** The arrows' colour unless one is chosen (sRGB). */
export const DEFAULT_ARROW_COLOR = "#ff7f0e";
const SHAFT_RADIUS = 0.06;
const HEAD_RADIUS = 0.15;
const HEAD_LENGTH = 0.3;

const ARROW_VERTEX = /* glsl */ `
attribute vec3 arrowStart;
attribute vec3 arrowVector;
attribute float head;  // 0: shaft vertex, 1: head vertex
uniform float scale;
varying vec3 vNormal;
varying vec3 vViewPos;
void main() {
  vec3 axis = arrowVector * scale;
  float len = length(axis);
  vec3 y = len > 0.0 ? axis / len : vec3(0.0, 1.0, 0.0);
  vec3 t = abs(y.x) < 0.9 ? vec3(1.0, 0.0, 0.0) : vec3(0.0, 1.0, 0.0);
  vec3 x = normalize(cross(y, t));
  vec3 z = cross(x, y);
  // the head keeps its size (shrunk on short arrows), the shaft takes the rest
  float headLength = min(${HEAD_LENGTH.toFixed(3)}, 0.5 * len);
  float shrink = headLength / ${HEAD_LENGTH.toFixed(3)};
  float along = head > 0.5 ? len - headLength + position.y * headLength : position.y * (len - headLength);
  float radius = head > 0.5 ? ${HEAD_RADIUS.toFixed(3)} * shrink : ${SHAFT_RADIUS.toFixed(3)} * shrink;
  vec3 p = arrowStart + x * position.x * radius + y * along + z * position.z * radius;
  vec4 mv = modelViewMatrix * vec4(p, 1.0);
  vViewPos = mv.xyz;
  vNormal = normalize(normalMatrix * (x * normal.x + y * normal.y + z * normal.z));
  gl_Position = projectionMatrix * mv;
}`;

const ARROW_FRAGMENT = /* glsl */ `
uniform vec3 color;
varying vec3 vNormal;
varying vec3 vViewPos;
${SHADE_GLSL}
void main() {
  gl_FragColor = vec4(shade(color, normalize(vNormal), vViewPos, 0.0), 1.0);
}`;

/** A unit arrow along +y from 0 to 1 (shaft and head), with each vertex's part. */
function arrowShape(): InstancedBufferGeometry {
  const shaft = new CylinderGeometry(1, 1, 1, 8, 1, true).translate(0, 0.5, 0);
  const head = new ConeGeometry(1, 1, 8, 1, false).translate(0, 0.5, 0);
  const geometry = new InstancedBufferGeometry();
  const parts = [shaft, head].map((g) => g.toNonIndexed());
  const count = parts.reduce((n, g) => n + g.getAttribute("position").count, 0);
  const position = new Float32Array(3 * count), normal = new Float32Array(3 * count), part = new Float32Array(count);
  let o = 0;
  parts.forEach((g, k) => {
    const n = g.getAttribute("position").count;
    position.set(g.getAttribute("position").array as Float32Array, 3 * o);
    normal.set(g.getAttribute("normal").array as Float32Array, 3 * o);
    part.fill(k, o, o + n);
    o += n;
    g.dispose();
  });
  shaft.dispose();
  head.dispose();
  geometry.setAttribute("position", new BufferAttribute(position, 3));
  geometry.setAttribute("normal", new BufferAttribute(normal, 3));
  geometry.setAttribute("head", new BufferAttribute(part, 1));
  geometry.instanceCount = 0;
  return geometry;
}

/** What the arrows show: the property (an N x 3 field), length per unit and colour. */
export interface VectorOptions {
  field: string;
  scale?: number;
  color?: string;
}

export class VectorsLayer implements Layer {
  readonly object: Mesh<InstancedBufferGeometry, ShaderMaterial>;
  /** Arrows drawn. */
  count = 0;
  private field: string | null = null;
  private frame: Frame | null = null;
  private vectors: Float32Array | null = null;

  constructor() {
    const material = new ShaderMaterial({
      vertexShader: ARROW_VERTEX,
      fragmentShader: ARROW_FRAGMENT,
      uniforms: { scale: { value: 1 }, color: { value: new Color(DEFAULT_ARROW_COLOR) } },
    });
    this.object = new Mesh(arrowShape(), material);
    this.object.frustumCulled = false;
    this.object.visible = false;
  }

  /** Show ``options.field`` from the next update on (null: no arrows). */
  setVectors(options: VectorOptions | null): void {
    this.field = options?.field || null;
    this.frame = null;
    const uniforms = this.object.material.uniforms;
    uniforms.scale.value = options?.scale ?? 1;
    // an unknown CSS colour keeps the one before (three.js warns)
    (uniforms.color.value as Color).setStyle(options?.color || DEFAULT_ARROW_COLOR);
  }

  update(shown: ShownFrame): void {
    const geometry = this.object.geometry;
    const previous = this.vectors;
    const vectors = this.field ? (shown.frame === this.frame ? this.vectors : vectorValues(shown.frame, this.field)) : null;
    this.frame = shown.frame;
    this.vectors = vectors;
    this.object.visible = !!vectors;
    if (!vectors) {
      geometry.instanceCount = this.count = 0;
      return;
    }
    pointAt(geometry, "arrowStart", shown.positions);
    if (vectors !== previous) pointAt(geometry, "arrowVector", vectors); // else already on the GPU
    geometry.instanceCount = this.count = vectors.length / 3;
  }

  dispose(): void {
    this.object.geometry.dispose();
    this.object.material.dispose();
  }
}

/** Point the instanced attribute ``name`` at ``array`` (no copy; a new attribute when the
 * length changes). */
function pointAt(geometry: InstancedBufferGeometry, name: string, array: Float32Array): void {
  const attribute = geometry.getAttribute(name) as InstancedBufferAttribute | undefined;
  if (attribute && attribute.array.length === array.length) {
    attribute.array = array;
    attribute.needsUpdate = true;
    return;
  }
  const created = new InstancedBufferAttribute(array, 3);
  created.setUsage(DynamicDrawUsage);
  setInstanced(geometry, name, created);
}
