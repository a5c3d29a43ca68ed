// Drag the selected atoms in the plane facing the camera (with Alt or R held: rotate them
// about their centre, as a trackball), then save the move as one versioned edit: the
// frame's lease over the control channel, a PATCH of the positions with the frame's version,
// the lease given back. A refusal (locked, changed meanwhile) undoes the move and says why.
import { Quaternion, Vector3 } from "three";
import { ControlClient, ControlError } from "../../control";
import { ApiError, DataClient } from "../../data";
import type { Frame } from "../../frames";
import { frameTarget } from "../../protocol";
import type { Renderer } from "../../renderer";
import type { PointerInput, Tool } from "./tool";

/** Seconds the frame's lease lives while a move is saved. */
const EDIT_LEASE_TTL = 10;
/** Radians a rotating drag turns the selection per pixel. */
const RADIANS_PER_PIXEL = 0.01;

export interface EditHost {
  renderer: Renderer;
  selection(): number[];
  /** The frame on screen. */
  frame(): Frame | null;
  room(): string;
  /** The user may only read the room: no drags (and so no leases). */
  readOnly(): boolean;
  /** The name to show for a session (a lease's holder). */
  who(session: string): string;
  control(): ControlClient;
  data(): DataClient;
  /** The move was saved as ``edited`` (room seq after the write: ``seq``). */
  saved(edited: Frame, seq: number): void;
  /** The move was undone, for the reason given. */
  undone(text: string): void;
  /** Read frame ``index`` again (it changed on the server). */
  reread(index: number): void;
}

interface Drag {
  start: Vector3;
  atoms: number[];
  original: Float32Array;
  moved: boolean;
  /** Rotating (about ``center``) rather than moving; ``x``, ``y``: where the press was. */
  rotate: boolean;
  center: Vector3;
  x: number;
  y: number;
}

export class DragEditTool implements Tool {
  private drag: Drag | null = null;
  private saving: Promise<void> | null = null;

  constructor(private readonly host: EditHost) {}

  /** Resolves once no move is being saved (an undo waits for it: it is the last change). */
  settled(): Promise<void> {
    return this.saving ?? Promise.resolve();
  }

  /** A drag is under way (the presenter token is kept meanwhile). */
  get active(): boolean {
    return this.drag !== null;
  }

  down({ x, y, extend, rotate, event }: PointerInput): boolean {
    const { renderer } = this.host;
    const selection = this.host.selection();
    if (extend || !selection.length || this.host.readOnly()) return false;
    const atom = renderer.pick(x, y);
    if (atom === null || !selection.includes(atom) || !this.host.frame()) return false;
    const p = renderer.positions;
    const start = renderer.pointOnPlane(x, y, vec(p, atom, renderer));
    const atoms = selection.filter((i) => i < p.length / 3);
    const center = new Vector3();
    for (const i of atoms) center.add(vec(p, i, renderer));
    center.divideScalar(atoms.length);
    this.drag = { start, atoms, original: p.slice(), moved: false, rotate, center, x, y };
    renderer.controls.enabled = false;
    renderer.canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
    return true;
  }

  move({ x, y }: PointerInput): void {
    const drag = this.drag;
    if (!drag) return;
    if (drag.rotate) {
      this.rotate(drag, x, y);
      return;
    }
    const { renderer } = this.host;
    const anchor = vec(drag.original, drag.atoms[0], renderer);
    const offset = renderer.pointOnPlane(x, y, anchor).sub(drag.start);
    const p = renderer.editablePositions();
    for (const i of drag.atoms) {
      p[3 * i] = drag.original[3 * i] + offset.x;
      p[3 * i + 1] = drag.original[3 * i + 1] + offset.y;
      p[3 * i + 2] = drag.original[3 * i + 2] + offset.z;
    }
    drag.moved = true;
    renderer.positionsChanged();
  }

  /** Turn the dragged atoms about their centre: the drag's direction on screen gives the
   * axis (perpendicular to it, in the screen's plane), its length the angle. */
  private rotate(drag: Drag, x: number, y: number): void {
    const { renderer } = this.host;
    const dx = x - drag.x, dy = y - drag.y;
    const length = Math.hypot(dx, dy);
    if (length < 1) return;
    const axis = new Vector3(dy / length, dx / length, 0).applyQuaternion(renderer.camera.quaternion);
    const turn = new Quaternion().setFromAxisAngle(axis, length * RADIANS_PER_PIXEL);
    const p = renderer.editablePositions();
    const o = drag.original;
    const v = new Vector3();
    for (const i of drag.atoms) {
      v.set(o[3 * i], o[3 * i + 1], o[3 * i + 2]).sub(drag.center).applyQuaternion(turn).add(drag.center);
      p[3 * i] = v.x;
      p[3 * i + 1] = v.y;
      p[3 * i + 2] = v.z;
    }
    drag.moved = true;
    renderer.positionsChanged();
  }

  up(): void {
    const drag = this.drag;
    if (!drag) return;
    this.drag = null;
    this.host.renderer.controls.enabled = true;
    if (drag.moved) {
      const saving = (this.saving = this.commit(drag.atoms, drag.original).finally(() => {
        if (this.saving === saving) this.saving = null;
      }));
    }
  }

  /** Write the dragged positions: frame lease, PATCH with base_version, release. */
  private async commit(atoms: number[], original: Float32Array): Promise<void> {
    const { host } = this;
    const { renderer } = host;
    const frame = host.frame();
    if (!frame) return;
    const room = host.room();
    const control = host.control();
    // The frame's own positions (full precision), with only the dragged atoms moved by the
    // drag (the drawn positions may be wrapped into the cell: the move, not the place).
    const positions = Float64Array.from(frame.positions);
    const moved = renderer.positions;
    for (const i of atoms) for (let k = 0; k < 3; k++) positions[3 * i + k] += moved[3 * i + k] - original[3 * i + k];
    const target = frameTarget(frame.id);
    const restore = (text: string) => {
      renderer.editablePositions().set(original);
      renderer.positionsChanged();
      host.undone(text);
    };
    let leased = false;
    try {
      if (control.status === "open") {
        await control.lock(room, target, EDIT_LEASE_TTL);
        leased = true;
      }
      const result = await host.data().patchPositions(room, frame.index, frame.version, positions);
      host.saved({ ...frame, positions, display: new Float32Array(positions), version: result.version }, result.seq);
    } catch (error) {
      if (error instanceof ControlError && error.code === "locked") restore(`frame ${frame.index} is being edited by ${holderName(host, error.details.holder)}: your move was undone`);
      else if (error instanceof ApiError && error.code === "conflict")
        restore(`frame ${frame.index} changed meanwhile (now version ${error.details.current_version}): your move was undone`);
      else if (error instanceof ApiError && error.code === "locked") restore(`frame ${frame.index} is locked by ${holderName(host, error.details.holder)}: your move was undone`);
      else restore(`saving the move failed: ${(error as Error).message}`);
      if (error instanceof ApiError && error.code === "conflict") host.reread(frame.index);
    } finally {
      if (leased) control.releaseLock(room, target);
    }
  }
}

/** The name of a refusal's ``holder`` (a session). */
function holderName(host: EditHost, holder: unknown): string {
  return typeof holder === "string" ? host.who(holder) : "someone else";
}

function vec(p: Float32Array, i: number, renderer: Renderer): Vector3 {
  return renderer.camera.position.clone().set(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
}
