// The Renderer: a WebGL canvas drawing the layers (layers/) of one frame, an orbit camera,
// the render loop (at most one draw per animation frame), picking and screenshots.
import { Box3, Color, Plane, Raycaster, Scene, Vector2, Vector3, WebGLRenderer } from "three";
import type { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import type { Frame } from "../frames";
import { wrap, type Vec3 } from "../geometry";
import { CameraRig, type ViewCamera } from "./camera";
import { capture } from "./capture";
import { Coloring, type ColoringOptions, type ColorKey } from "./coloring";
import { createLayers, type Layers, type MarkGroup, type Measurement, type ShownFrame } from "./layers";
import { isPeriodic } from "./layers/bonds";
import type { VectorOptions } from "./layers/vectors";
import { Look, type Style } from "./look";

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
  readonly controls: OrbitControls;
  /** Perspective or orthographic camera (``camera`` is the one drawing). */
  readonly rig: CameraRig;
  /** The style and what it makes of each atom (shared by the layers). */
  readonly look = new Look();
  onRendered: ((info: RenderedInfo) => void) | null = null;
  /** Over the canvas: the labels layers place (measurements). */
  readonly overlay = document.createElement("div");
  private readonly layers: Layers;
  private shown: ShownFrame | null = null;
  private wrapped = false; // positions wrapped into the cell (periodic frames)
  private wrapBuffer: Float32Array = new Float32Array(0);
  private ownPositions = false; // the shown positions are an edited copy, not the frame's
  private pending = 0;
  private resizeObserver: ResizeObserver | null = null;
  /** The camera has been placed (fitted to the first frame, or set): no more auto-fit. */
  fitted = false;

  constructor(private readonly container: HTMLElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.style.display = "block";
    this.canvas.style.width = "100%";
    this.canvas.style.height = "100%";
    this.canvas.style.touchAction = "none";
    container.appendChild(this.canvas);
    this.overlay.className = "zn-overlay";
    container.appendChild(this.overlay);
    this.layers = createLayers(this.overlay, this.look);
    this.renderer = new WebGLRenderer({ canvas: this.canvas, antialias: !softwareRendering(), preserveDrawingBuffer: true, alpha: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.rig = new CameraRig(this.canvas);
    this.controls = this.rig.controls;
    this.controls.enableDamping = false;
    this.controls.addEventListener("change", () => this.requestRender());

    for (const layer of this.layers.all) this.scene.add(layer.object);

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
    for (const layer of this.layers.all) layer.setBackground?.(c);
    this.requestRender();
  }

  get atomCount(): number {
    return this.layers.atoms.numbers.length;
  }

  /** The positions on screen: the shown frame's own array until an edit makes a copy. */
  get positions(): Float32Array {
    return this.shown?.positions ?? NO_POSITIONS;
  }

  /** The camera drawing now (perspective or orthographic: ``rig``). */
  get camera(): ViewCamera {
    return this.rig.current;
  }

  resize(): void {
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(width, height, false);
    this.rig.setAspect(width / height);
    this.requestRender();
  }

  /** Show ``frame``; the camera fits the first one. */
  setFrame(frame: Frame): void {
    // Drawn straight from the frame's float32 array (no copy); an edit copies it first;
    // wrapping into the cell writes one reused buffer.
    this.shown = { frame, positions: this.wrapped && isPeriodic(frame.cell, frame.pbc) ? this.wrap(frame) : frame.display };
    this.ownPositions = false;
    this.updateLayers();
    if (!this.fitted) {
      this.fit();
      this.fitted = true;
    }
    this.requestRender();
  }

  private wrap(frame: Frame): Float32Array {
    if (this.wrapBuffer.length !== frame.display.length) this.wrapBuffer = new Float32Array(frame.display.length);
    return wrap(frame.display, frame.cell!, frame.pbc, this.wrapBuffer);
  }

  // -- what the layers show besides the frame ----------------------------------------------
  /** Draw the positions wrapped into the cell (periodic frames), or as they are. */
  setWrap(on: boolean): void {
    if (on === this.wrapped) return;
    this.wrapped = on;
    if (this.shown) this.setFrame(this.shown.frame);
  }

  /** Repeat the cell (n, m, l) times (periodic frames). */
  setRepeat(repeat: Vec3): void {
    this.layers.images.setRepeat(repeat);
    this.requestRender();
  }

  /** Do ahead what drawing ``frame`` will need that does not depend on the view (its bonds):
   * for frames read in the background, so that a jump to one costs only its draw. */
  prepare(frame: Frame): void {
    // a periodic frame drawn wrapped into its cell draws (and bonds) a copy of its positions
    if (!(this.wrapped && isPeriodic(frame.cell, frame.pbc))) this.layers.bonds.prepare(frame);
  }

  /** The bonds found in the shown frame (each once, also across a periodic boundary). */
  get bonds(): number {
    return this.layers.bonds.count;
  }

  /** The number of cells drawn (1: no periodic images). */
  get cells(): number {
    return this.layers.images.count;
  }

  /** Colour the atoms by a property (null: by element). */
  setColoring(options: ColoringOptions | null): void {
    this.layers.atoms.setColoring(options?.property ? new Coloring(options) : null);
    this.restyle();
  }

  /** What the colouring by property shows on this frame (null: none or missing). */
  get colorKey(): ColorKey | null {
    return this.layers.atoms.colorKey;
  }

  /** Arrows for an N x 3 property (null: none). */
  setVectors(options: VectorOptions | null): void {
    this.layers.vectors.setVectors(options);
    this.restyle();
  }

  /** The arrows drawn. */
  get arrows(): number {
    return this.layers.vectors.count;
  }

  /** Measure these groups of atoms (2: distance, 3: angle, 4: dihedral) on every frame. */
  setMeasurements(groups: number[][]): void {
    this.layers.measurements.setMeasurements(groups);
    this.requestRender();
  }

  /** The measurements' values on the shown frame. */
  get measurements(): Measurement[] {
    return this.layers.measurements.results;
  }

  /** Redraw the shown frame from scratch (a style changed). */
  private restyle(): void {
    if (!this.shown) return;
    this.updateLayers();
    this.requestRender();
  }

  /** The positions array to change in place (dragging): a copy of the frame's own. */
  editablePositions(): Float32Array {
    if (this.shown && !this.ownPositions) {
      this.shown = { frame: this.shown.frame, positions: this.shown.positions.slice() };
      this.ownPositions = true;
    }
    return this.positions;
  }

  /** Positions changed in place (dragging): redraw the layers from them. */
  positionsChanged(): void {
    if (!this.shown) return;
    this.updateLayers();
    this.requestRender();
  }

  private updateLayers(): void {
    for (const layer of this.layers.all) layer.update(this.shown!);
  }

  /** Highlight the atoms ``indices``, and only those. */
  setSelection(indices: Iterable<number>): void {
    const selected = new Set(indices);
    this.layers.atoms.setSelection(selected);
    if (this.look.setSelection(selected)) this.positionsChanged();
    this.requestRender();
  }

  /** Mark other people's selections, each group in its colour. */
  setMarks(groups: MarkGroup[]): void {
    this.layers.marks.setMarks(groups);
    this.requestRender();
  }

  /** How many atoms other people's selections mark on screen. */
  get markedCount(): number {
    return this.layers.marks.count;
  }

  /** Point the camera at everything the layers draw (atoms and cell), from where it is
   * (``home``: from the default direction, the default way up). */
  fit(home = false): void {
    const box = new Box3();
    for (const layer of this.layers.all) layer.expandBounds?.(box);
    const { min, max } = box;
    if (!Number.isFinite(min.x)) {
      min.set(-5, -5, -5);
      max.set(5, 5, 5);
    }
    const center = min.clone().add(max).multiplyScalar(0.5);
    const radius = Math.max(2, max.distanceTo(min) / 2 + 1.5);
    if (home) this.rig.home(center, radius);
    else this.rig.frame(center, radius);
    this.fitted = true;
    this.requestRender();
  }

  /** Draw as ``style`` says (representations, scales, bonds, groups, labels). */
  setStyle(style: Style): void {
    this.look.setStyle(style);
    this.positionsChanged();
  }

  /** A picture of ``width`` x ``height`` pixels of what the view shows (its transparent
   * background if asked), as a PNG. ``keepSize``: leave the canvas drawn at that size (a
   * movie's frames, one after another; ``resize()`` after the last). */
  capture(width: number, height: number, transparent = false, keepSize = false): Promise<Blob> {
    const blob = capture(this.renderer, this.scene, this.rig, width, height, transparent);
    if (!keepSize) {
      this.resize(); // back to the canvas' own size and aspect
      this.renderNow();
    }
    return blob;
  }

  /** The atom under a point of the canvas (CSS pixels from its top left), nearest first; in
   * a periodic image, the atom it is an image of. */
  pick(x: number, y: number): number | null {
    const { numbers, radii } = this.layers.atoms;
    const offsets = this.layers.images.offsets;
    let best: number | null = null;
    let bestDepth = Infinity;
    for (let k = 0; k < offsets.length; k += 3) {
      const hit = nearestSphere(this.camera, this.canvas.clientWidth, this.canvas.clientHeight, this.positions, radii, numbers.length, x, y, offsets.subarray(k, k + 3));
      if (hit && hit.depth < bestDepth) [best, bestDepth] = [hit.index, hit.depth];
    }
    return best;
  }

  /** Where a canvas point meets the plane facing the camera through ``through``. */
  pointOnPlane(x: number, y: number, through: Vector3): Vector3 {
    const ndc = new Vector2((x / this.canvas.clientWidth) * 2 - 1, -(y / this.canvas.clientHeight) * 2 + 1);
    const raycaster = new Raycaster();
    raycaster.setFromCamera(ndc, this.camera); // a perspective or an orthographic ray
    const plane = new Plane().setFromNormalAndCoplanarPoint(this.camera.getWorldDirection(new Vector3()), through);
    return raycaster.ray.intersectPlane(plane, new Vector3()) ?? through.clone();
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
    for (const layer of this.layers.all) layer.beforeRender?.(this.camera, this.canvas.clientWidth, this.canvas.clientHeight);
    this.renderer.render(this.scene, this.camera);
    this.onRendered?.({ atoms: this.atomCount, bonds: this.bonds, ms: performance.now() - t0 });
  }

  screenshot(): string {
    this.renderer.render(this.scene, this.camera);
    return this.canvas.toDataURL("image/png");
  }

  dispose(): void {
    if (this.pending) cancelAnimationFrame(this.pending);
    this.resizeObserver?.disconnect();
    this.controls.dispose();
    for (const layer of this.layers.all) layer.dispose();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.canvas.remove();
    this.overlay.remove();
  }
}

const NO_POSITIONS = new Float32Array(0);

/** The sphere (centre ``positions[i]``, radius ``radii[i]``, i < ``count``) under a point of
 * a ``width`` x ``height`` view (CSS pixels from its top left), the nearest if several. */
export function pickSphere(
  camera: ViewCamera,
  width: number,
  height: number,
  positions: ArrayLike<number>,
  radii: ArrayLike<number>,
  count: number,
  x: number,
  y: number,
): number | null {
  return nearestSphere(camera, width, height, positions, radii, count, x, y)?.index ?? null;
}

/** ``pickSphere`` with every centre moved by ``offset`` (a periodic image): the sphere hit
 * and its depth. */
function nearestSphere(
  camera: ViewCamera,
  width: number,
  height: number,
  positions: ArrayLike<number>,
  radii: ArrayLike<number>,
  count: number,
  x: number,
  y: number,
  offset: ArrayLike<number> = [0, 0, 0],
): { index: number; depth: number } | null {
  if (!count) return null;
  camera.updateMatrixWorld();
  const view = camera.matrixWorldInverse.elements;
  const proj = camera.projectionMatrix.elements;
  const p = positions;
  // Screen pixels per unit at depth 1 (perspective) or anywhere (orthographic).
  const ortho = "isOrthographicCamera" in camera && camera.isOrthographicCamera;
  const scale = (proj[5] * height) / 2;
  let best: number | null = null;
  let bestDepth = Infinity;
  for (let i = 0; i < count; i++) {
    const px = p[3 * i] + offset[0], py = p[3 * i + 1] + offset[1], pz = p[3 * i + 2] + offset[2];
    const vx = view[0] * px + view[4] * py + view[8] * pz + view[12];
    const vy = view[1] * px + view[5] * py + view[9] * pz + view[13];
    const vz = view[2] * px + view[6] * py + view[10] * pz + view[14];
    if (vz >= 0 && !ortho) continue;
    const depth = -vz;
    const w = ortho ? 1 : depth; // the perspective divide
    const sx = ((proj[0] * vx) / w + 1) * 0.5 * width;
    const sy = (1 - (proj[5] * vy) / w) * 0.5 * height;
    const r = (radii[i] * scale) / w;
    if (r <= 0) continue; // hidden
    const dx = sx - x, dy = sy - y;
    if (dx * dx + dy * dy <= r * r && depth < bestDepth) {
      best = i;
      bestDepth = depth;
    }
  }
  return best === null ? null : { index: best, depth: bestDepth };
}
