// Labels: a text per atom (element, index or a per-atom array), drawn at a fixed size on the
// screen at every zoom, in front of its own atom (hidden behind nearer atoms). All texts are
// drawn once into an atlas texture (each distinct text once); each label is one instanced
// quad, so thousands cost one draw call. They are part of the WebGL picture, so screenshots
// and movies have them.
import {
  BufferAttribute,
  CanvasTexture,
  InstancedBufferGeometry,
  LinearFilter,
  Mesh,
  ShaderMaterial,
  Vector2,
  type WebGLRenderer,
} from "three";
import { NDArray } from "../../codec";
import { SYMBOLS } from "../../elements";
import type { Frame } from "../../frames";
import type { Labels, Look } from "../look";
import type { AtomsLayer } from "./atoms";
import { growAttribute, type Layer, type ShownFrame } from "./layer";

/** At most this many atoms are labelled (the first ones of those asked for). */
export const LABEL_LIMIT = 5000;
/** The atlas is drawn at this many texture pixels per CSS pixel (crisp on hi-dpi screens). */
const ATLAS_SCALE = 2;
const ATLAS_WIDTH = 2048;

const LABEL_VERTEX = /* glsl */ `
attribute vec3 labelPosition;
attribute vec4 labelUv;
attribute vec2 labelSize;
attribute float labelLift;
uniform vec2 viewport;
uniform float pixelScale;
varying vec2 vUv;
void main() {
  vec4 mv = modelViewMatrix * vec4(labelPosition, 1.0);
  // In front of its own atom: lifted towards the eye by the atom's radius.
  vec3 toEye = projectionMatrix[3][3] == 1.0 ? vec3(0.0, 0.0, 1.0) : normalize(-mv.xyz);
  mv.xyz += toEye * labelLift;
  vec4 clip = projectionMatrix * mv;
  clip.xy += position.xy * labelSize * pixelScale / viewport * 2.0 * clip.w;
  gl_Position = clip;
  vUv = labelUv.xy + (position.xy + 0.5) * labelUv.zw;
}`;

const LABEL_FRAGMENT = /* glsl */ `
uniform sampler2D atlas;
varying vec2 vUv;
void main() {
  vec4 c = texture2D(atlas, vUv);
  if (c.a < 0.05) discard;
  gl_FragColor = c;
}`;

/** The text of each atom of ``frame`` under ``labels`` (null: the array named is missing or
 * not one number per atom). */
export function labelTexts(labels: Labels, frame: Frame): ((i: number) => string) | null {
  if (labels.text === "element") return (i) => SYMBOLS[frame.numbers[i]] ?? "?";
  if (labels.text === "index") return (i) => String(i);
  const name = labels.text.startsWith("arrays.") ? labels.text : `arrays.${labels.text}`;
  const value = frame.fields[name];
  if (!(value instanceof NDArray) || value.size !== frame.numbers.length) return null;
  const data = value.data;
  return (i) => formatNumber(Number(data[i]));
}

/** A number as a short label: integers as they are, others to 3 significant digits. */
export function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(3)).toString();
}

/** The atoms labelled: all, the selection or a list, at most LABEL_LIMIT, within ``count``. */
export function labelledAtoms(labels: Labels, selection: ReadonlySet<number>, count: number): number[] {
  const out: number[] = [];
  const take = (i: number) => i < count && out.length < LABEL_LIMIT && out.push(i);
  if (labels.atoms === "all") for (let i = 0; i < count && out.length < LABEL_LIMIT; i++) out.push(i);
  else for (const i of labels.atoms === "selection" ? [...selection].sort((a, b) => a - b) : labels.atoms) take(i);
  return out;
}

export class LabelsLayer implements Layer {
  readonly object: Mesh<InstancedBufferGeometry, ShaderMaterial>;
  /** Labels drawn. */
  count = 0;
  /** The atlas (made when first needed: no DOM until labels are asked for). */
  private atlas: { canvas: HTMLCanvasElement; texture: CanvasTexture } | null = null;
  /** Where each text is in the atlas: [u, v, du, dv] and its size in CSS pixels. */
  private places = new Map<string, { uv: [number, number, number, number]; w: number; h: number }>();
  private atlasKey = "";

  constructor(private readonly look: Look, private readonly atoms: AtomsLayer) {
    const material = new ShaderMaterial({
      vertexShader: LABEL_VERTEX,
      fragmentShader: LABEL_FRAGMENT,
      uniforms: { atlas: { value: null }, viewport: { value: new Vector2(1, 1) }, pixelScale: { value: 1 } },
      transparent: true,
    });
    const geometry = new InstancedBufferGeometry();
    geometry.setAttribute("position", new BufferAttribute(new Float32Array([-0.5, -0.5, 0, 0.5, -0.5, 0, 0.5, 0.5, 0, -0.5, 0.5, 0]), 3));
    geometry.setIndex([0, 1, 2, 0, 2, 3]);
    geometry.instanceCount = 0;
    this.object = new Mesh(geometry, material);
    this.object.frustumCulled = false;
    this.object.renderOrder = 2;
    // Sized in screen pixels of the picture drawn (the canvas, or a larger screenshot:
    // there they keep their size relative to the picture).
    const size = new Vector2();
    this.object.onBeforeRender = (renderer: WebGLRenderer) => {
      renderer.getDrawingBufferSize(size);
      material.uniforms.viewport.value.copy(size);
      material.uniforms.pixelScale.value = size.y / Math.max(1, renderer.domElement.clientHeight || size.y);
    };
  }

  update({ frame, positions }: ShownFrame): void {
    const labels = this.look.style.labels;
    const texts = labels ? labelTexts(labels, frame) : null;
    const atoms = labels && texts ? labelledAtoms(labels, this.look.selection, frame.numbers.length) : [];
    const geometry = this.object.geometry;
    this.count = geometry.instanceCount = atoms.length;
    this.object.visible = atoms.length > 0;
    if (!labels || !texts || !atoms.length) return;
    const strings = atoms.map(texts);
    this.drawAtlas(strings, labels.size);
    const n = atoms.length;
    // the attributes are kept while big enough: no new GPU buffers per frame
    const attributes = [growAttribute(geometry, "labelPosition", 3, n), growAttribute(geometry, "labelUv", 4, n),
      growAttribute(geometry, "labelSize", 2, n), growAttribute(geometry, "labelLift", 1, n)];
    const [pos, uv, size, lift] = attributes.map((a) => a.array as Float32Array);
    const radii = this.atoms.radii;
    atoms.forEach((i, k) => {
      pos.set(positions.subarray(3 * i, 3 * i + 3), 3 * k);
      const place = this.places.get(strings[k])!;
      uv.set(place.uv, 4 * k);
      size[2 * k] = place.w;
      size[2 * k + 1] = place.h;
      lift[k] = (radii[i] ?? 0) * 1.05;
    });
    for (const attribute of attributes) attribute.needsUpdate = true;
  }

  /** Draw each distinct text once into the atlas (unless it holds these already). */
  private drawAtlas(strings: string[], fontSize: number): void {
    const distinct = [...new Set(strings)];
    const key = `${fontSize}\u0000${distinct.join("\u0000")}`;
    if (key === this.atlasKey) return;
    this.atlasKey = key;
    const px = fontSize * ATLAS_SCALE;
    const font = `600 ${px}px system-ui, sans-serif`;
    const { canvas, texture } = this.makeAtlas();
    const ctx = canvas.getContext("2d")!;
    ctx.font = font;
    const pad = Math.ceil(px * 0.25);
    const rowHeight = Math.ceil(px * 1.25) + 2 * pad;
    // Lay the texts out in rows, then size the canvas and draw them.
    const widths = distinct.map((t) => Math.ceil(ctx.measureText(t).width) + 2 * pad);
    const spots: Array<[number, number]> = [];
    let x = 0, y = 0;
    for (const w of widths) {
      if (x + w > ATLAS_WIDTH) {
        x = 0;
        y += rowHeight;
      }
      spots.push([x, y]);
      x += w;
    }
    const width = ATLAS_WIDTH, height = y + rowHeight;
    canvas.width = width;
    canvas.height = height;
    ctx.font = font;
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    ctx.lineWidth = px * 0.22;
    ctx.strokeStyle = "rgba(255,255,255,0.95)";
    ctx.fillStyle = "#111";
    this.places.clear();
    distinct.forEach((text, k) => {
      const [sx, sy] = spots[k];
      ctx.strokeText(text, sx + pad, sy + rowHeight / 2);
      ctx.fillText(text, sx + pad, sy + rowHeight / 2);
      // Texture v runs bottom-up (flipY).
      this.places.set(text, {
        uv: [sx / width, 1 - (sy + rowHeight) / height, widths[k] / width, rowHeight / height],
        w: widths[k] / ATLAS_SCALE,
        h: rowHeight / ATLAS_SCALE,
      });
    });
    texture.dispose(); // the canvas' size may have changed: upload it anew
    texture.needsUpdate = true;
  }

  private makeAtlas(): { canvas: HTMLCanvasElement; texture: CanvasTexture } {
    if (this.atlas) return this.atlas;
    const canvas = document.createElement("canvas");
    const texture = new CanvasTexture(canvas);
    texture.minFilter = LinearFilter;
    texture.generateMipmaps = false;
    this.object.material.uniforms.atlas.value = texture;
    return (this.atlas = { canvas, texture });
  }

  dispose(): void {
    this.object.geometry.dispose();
    this.object.material.dispose();
    this.atlas?.texture.dispose();
  }
}
