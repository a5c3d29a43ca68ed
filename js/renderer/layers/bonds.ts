// Bonds: found from positions by a cell list (i-j bonded when |ri - rj| < (Ri + Rj) * factor
// with Ri the covalent radii), found once per frame for up to BOND_LIMIT atoms; in a
// periodic cell by the minimum image (a bond across the boundary is drawn as two halves, one
// from each atom towards the other's nearest image, so a molecule crossing it stays whole);
// drawn as one instanced cylinder per bond (or half), each half in its atom's colour.
import {
  CylinderGeometry,
  DynamicDrawUsage,
  InstancedBufferGeometry,
  InstancedInterleavedBuffer,
  InterleavedBufferAttribute,
  Mesh,
  ShaderMaterial,
} from "three";
import { COVALENT_RADII } from "../../elements";
import type { Frame } from "../../frames";
import { fractional, hasVolume, heights } from "../../geometry";
import { type AtomLooks, atomStickRadius, BondKind, bondKind, Look } from "../look";
import type { AtomsLayer } from "./atoms";
import { type Layer, setInstanced, type ShownFrame } from "./layer";
import { SHADE_GLSL } from "./shading";

export const BOND_FACTOR = 1.15;

/** Pairs (i, j), i < j, as a flat Uint32Array [i0, j0, i1, j1, ...]. */
export function computeBonds(positions: ArrayLike<number>, numbers: ArrayLike<number>, factor = BOND_FACTOR): Uint32Array {
  const n = numbers.length;
  if (n < 2) return new Uint32Array(0);
  let maxR = 0;
  let minX = Infinity, minY = Infinity, minZ = Infinity, maxX = -Infinity, maxY = -Infinity, maxZ = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = COVALENT_RADII[numbers[i]] ?? 1;
    if (r > maxR) maxR = r;
    const x = positions[3 * i], y = positions[3 * i + 1], z = positions[3 * i + 2];
    if (x < minX) minX = x; if (x > maxX) maxX = x;
    if (y < minY) minY = y; if (y > maxY) maxY = y;
    if (z < minZ) minZ = z; if (z > maxZ) maxZ = z;
  }
  if (!Number.isFinite(minX)) return new Uint32Array(0);
  const cut = 2 * maxR * factor;
  if (cut <= 0) return new Uint32Array(0);
  // Cap the grid size (sparse, spread-out systems): never more cells than ~4 per atom.
  let size = cut;
  const volume = () => Math.ceil((maxX - minX) / size + 1) * Math.ceil((maxY - minY) / size + 1) * Math.ceil((maxZ - minZ) / size + 1);
  while (volume() > 4 * n + 64) size *= 1.5;
  const nx = Math.ceil((maxX - minX) / size + 1), ny = Math.ceil((maxY - minY) / size + 1), nz = Math.ceil((maxZ - minZ) / size + 1);
  const cellOf = new Int32Array(n);
  const counts = new Int32Array(nx * ny * nz + 1);
  for (let i = 0; i < n; i++) {
    const cx = Math.floor((positions[3 * i] - minX) / size);
    const cy = Math.floor((positions[3 * i + 1] - minY) / size);
    const cz = Math.floor((positions[3 * i + 2] - minZ) / size);
    const c = (cx * ny + cy) * nz + cz;
    cellOf[i] = c;
    counts[c + 1]++;
  }
  for (let c = 0; c < nx * ny * nz; c++) counts[c + 1] += counts[c];
  const start = counts.slice();
  const sorted = new Int32Array(n);
  for (let i = 0; i < n; i++) sorted[start[cellOf[i]]++] = i;

  let out = new Uint32Array(Math.max(16, n * 4));
  let m = 0;
  for (let i = 0; i < n; i++) {
    const c = cellOf[i];
    const cz = c % nz, cy = Math.floor(c / nz) % ny, cx = Math.floor(c / (ny * nz));
    const xi = positions[3 * i], yi = positions[3 * i + 1], zi = positions[3 * i + 2];
    const ri = COVALENT_RADII[numbers[i]] ?? 1;
    for (let dx = -1; dx <= 1; dx++) {
      const x = cx + dx;
      if (x < 0 || x >= nx) continue;
      for (let dy = -1; dy <= 1; dy++) {
        const y = cy + dy;
        if (y < 0 || y >= ny) continue;
        for (let dz = -1; dz <= 1; dz++) {
          const z = cz + dz;
          if (z < 0 || z >= nz) continue;
          const cell = (x * ny + y) * nz + z;
          for (let k = counts[cell]; k < counts[cell + 1]; k++) {
            const j = sorted[k];
            if (j <= i) continue;
            const rx = positions[3 * j] - xi, ry = positions[3 * j + 1] - yi, rz = positions[3 * j + 2] - zi;
            const d = (ri + (COVALENT_RADII[numbers[j]] ?? 1)) * factor;
            const d2 = rx * rx + ry * ry + rz * rz;
            if (d2 < d * d && d2 > 1e-8) {
              if (m + 2 > out.length) {
                const next = new Uint32Array(out.length * 2);
                next.set(out);
                out = next;
              }
              out[m++] = i;
              out[m++] = j;
            }
          }
        }
      }
    }
  }
  return out.subarray(0, m);
}

/** Bonds of a periodic cell: pairs (i, j), i < j, and for each the lattice vector n
 * (integers, 3 per bond) such that atom j's bonded image is at r_j + n · cell (all zero for
 * a bond inside the shown positions). Found on the positions wrapped into the cell plus the
 * images of the atoms within a cutoff of its faces, by ``computeBonds``. */
export function computePeriodicBonds(
  positions: ArrayLike<number>, numbers: ArrayLike<number>, cell: ArrayLike<number>, pbc: boolean[] | null, factor = BOND_FACTOR,
): { pairs: Uint32Array; shifts: Int32Array } {
  const n = numbers.length;
  let maxR = 0;
  for (let i = 0; i < n; i++) maxR = Math.max(maxR, COVALENT_RADII[numbers[i]] ?? 1);
  const cut = 2 * maxR * factor;
  const h = heights(cell);
  const periodic = [0, 1, 2].map((k) => !pbc || !!pbc[k]);
  const delta = h.map((height) => cut / height);
  const f = fractional(positions, cell);
  const w = new Int32Array(3 * n); // the cell each atom sits in (wrapped away below)
  for (let i = 0; i < 3 * n; i++) {
    if (!periodic[i % 3]) continue;
    w[i] = Math.floor(f[i]);
    f[i] -= w[i];
  }
  // Images of the atoms near a face: every combination of -1/0/+1 shifts each allows.
  const ghostSource: number[] = [];
  const ghostShift: number[] = [];
  const ghostFrac: number[] = [];
  const options: number[][] = [[0], [0], [0]];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const o = (options[k] = [0]);
      if (!periodic[k]) continue;
      if (f[3 * i + k] < delta[k]) o.push(1);
      if (f[3 * i + k] > 1 - delta[k]) o.push(-1);
    }
    for (const a of options[0]) for (const b of options[1]) for (const c of options[2]) {
      if (!a && !b && !c) continue;
      ghostSource.push(i);
      ghostShift.push(a, b, c);
      ghostFrac.push(f[3 * i] + a, f[3 * i + 1] + b, f[3 * i + 2] + c);
    }
  }
  const total = n + ghostSource.length;
  const all = new Float64Array(3 * total);
  all.set(f);
  all.set(ghostFrac, 3 * n);
  const cartesian = new Float32Array(3 * total);
  for (let i = 0; i < 3 * total; i += 3) {
    for (let d = 0; d < 3; d++) cartesian[i + d] = all[i] * cell[d] + all[i + 1] * cell[3 + d] + all[i + 2] * cell[6 + d];
  }
  const allNumbers = new Uint8Array(total);
  for (let i = 0; i < n; i++) allNumbers[i] = numbers[i];
  ghostSource.forEach((i, g) => (allNumbers[n + g] = numbers[i]));
  const found = computeBonds(cartesian, allNumbers, factor);
  const pairs: number[] = [];
  const shifts: number[] = [];
  for (let b = 0; b < found.length; b += 2) {
    const i = found[b];
    let j = found[b + 1];
    if (i >= n) continue; // two images: their originals' bond is found once elsewhere
    let t = [0, 0, 0];
    if (j >= n) {
      const g = j - n;
      j = ghostSource[g];
      t = ghostShift.slice(3 * g, 3 * g + 3);
      if (j <= i) continue; // the same bond seen from j's side (or an atom and its own image)
    }
    pairs.push(i, j);
    // r_j's bonded image, in the shown (unwrapped) positions: t + w_i - w_j cells away
    for (let k = 0; k < 3; k++) shifts.push(t[k] + w[3 * i + k] - w[3 * j + k]);
  }
  return { pairs: Uint32Array.from(pairs), shifts: Int32Array.from(shifts) };
}

/** Whether a frame is drawn as periodic: a cell with a volume and a periodic direction. */
export function isPeriodic(cell: ArrayLike<number> | null, pbc: boolean[] | null): cell is ArrayLike<number> {
  return hasVolume(cell) && (!pbc || pbc.some(Boolean));
}

/** Above this many atoms no bonds are found or drawn. */
export const BOND_LIMIT = 100000;

interface FoundBonds {
  pairs: Uint32Array;
  shifts: Int32Array | null;
}

/** The bonds of frames' own positions, kept as long as the frame (the frame store's cache). */
const FOUND = new WeakMap<Frame, FoundBonds>();

function findBonds(positions: ArrayLike<number>, numbers: ArrayLike<number>, cell: ArrayLike<number> | null, pbc: boolean[] | null): FoundBonds {
  return isPeriodic(cell, pbc) ? computePeriodicBonds(positions, numbers, cell, pbc) : { pairs: computeBonds(positions, numbers), shifts: null };
}

/** The bonds of ``frame``'s own positions: they never change (an edit or wrapping draws a
 * copy), so they are found once, and a frame shown again (a jump back, playback's next loop,
 * a frame prepared in the background) reuses them. */
function ownBonds(frame: Frame): FoundBonds {
  let found = FOUND.get(frame);
  if (!found) FOUND.set(frame, (found = findBonds(frame.display, frame.numbers, frame.cell, frame.pbc)));
  return found;
}

/** Floats per drawn stick in the bonds' interleaved buffer, and the attributes it holds. */
const STRIDE = 13;
const INSTANCE_ATTRIBUTES: [name: string, size: number, offset: number][] = [
  ["bondStart", 3, 0], ["bondEnd", 3, 3], ["bondColorStart", 3, 6], ["bondColorEnd", 3, 9], ["bondRadius", 1, 12],
];

/** Per atom, what its bonds can be drawn as (a rank: a bond takes the lower of its atoms',
 * so that ``RANK_KIND[min(rank_i, rank_j)]`` is ``bondKind``) and its stick radius (a
 * bond's is the smaller of its atoms'): found once per look. */
interface BondLooks {
  rank: Uint8Array;
  radius: Float32Array;
}

const RANK_KIND = [BondKind.None, BondKind.Line, BondKind.Stick];
const BOND_LOOKS = new WeakMap<AtomLooks, BondLooks>();

function bondLooks(looks: AtomLooks): BondLooks {
  let found = BOND_LOOKS.get(looks);
  if (found) return found;
  const { rep, bondScale } = looks;
  const rank = new Uint8Array(rep.length);
  const radius = new Float32Array(rep.length);
  for (let i = 0; i < rep.length; i++) {
    // bondKind of an atom with itself: what its bonds are at best
    rank[i] = RANK_KIND.indexOf(bondKind(rep[i], rep[i], true));
    radius[i] = atomStickRadius(rep[i], bondScale[i]); // a bond's: the smaller (stickRadius)
  }
  BOND_LOOKS.set(looks, (found = { rank, radius }));
  return found;
}

const BOND_VERTEX = /* glsl */ `
attribute vec3 bondStart;
attribute vec3 bondEnd;
attribute vec3 bondColorStart;
attribute vec3 bondColorEnd;
attribute float bondRadius;
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
${SHADE_GLSL}
void main() {
  vec3 color = vAlong < 0.5 ? vColorStart : vColorEnd;  // each half in its atom's colour
  gl_FragColor = vec4(shade(color, normalize(vNormal), vViewPos, 0.0), 1.0);
}`;

export class BondsLayer implements Layer {
  readonly object: Mesh<InstancedBufferGeometry, ShaderMaterial>;
  /** Bonds drawn as sticks. */
  count = 0;
  /** The bonds of the shown frame, (i, j) pairs, and how each is drawn (BondKind). */
  pairs: Uint32Array = new Uint32Array(0);
  kinds: Uint8Array = new Uint8Array(0);
  /** Per bond the lattice vector to atom j's bonded image (3 integers; null: no cell). */
  shifts: Int32Array | null = null;
  /** Per instance: start, end, start colour, end colour (3 floats each), radius. */
  private buffer = new InstancedInterleavedBuffer(new Float32Array(0), STRIDE);

  /** Bonds between the atoms of ``atoms``, in their colours, drawn as ``look`` says. */
  constructor(private readonly atoms: AtomsLayer, private readonly look: Look = new Look()) {
    const shape = new CylinderGeometry(1, 1, 1, 6, 1, true);
    const geometry = new InstancedBufferGeometry();
    geometry.index = shape.index;
    geometry.setAttribute("position", shape.getAttribute("position"));
    geometry.setAttribute("normal", shape.getAttribute("normal"));
    geometry.instanceCount = 0;
    const material = new ShaderMaterial({
      vertexShader: BOND_VERTEX,
      fragmentShader: BOND_FRAGMENT,
    });
    this.object = new Mesh(geometry, material);
    this.object.frustumCulled = false;
    this.reserve(16);
  }

  /** Find the bonds of ``frame``'s own positions ahead of its draw (a frame read in the
   * background), if it is drawn with bonds: a jump to it then skips the search. */
  prepare(frame: Frame): void {
    if (frame.numbers.length <= BOND_LIMIT && this.look.style.bonds) ownBonds(frame);
  }

  /** Find the bonds of the shown positions; call after the atoms' update (their colours). */
  update(shown: ShownFrame): void {
    const geometry = this.object.geometry;
    const { numbers, cell, pbc } = shown.frame;
    if (numbers.length > BOND_LIMIT || !this.look.style.bonds) {
      geometry.instanceCount = this.count = 0;
      this.pairs = new Uint32Array(0);
      this.kinds = new Uint8Array(0);
      this.shifts = null;
      return;
    }
    const p = shown.positions;
    // A frame's own positions never change (an edit or wrapping draws a copy): their bonds are
    // found once, and a frame shown again (a jump back, playback's next loop) reuses them.
    const { pairs, shifts } = p === shown.frame.display ? ownBonds(shown.frame) : findBonds(p, numbers, cell, pbc);
    this.pairs = pairs;
    this.shifts = shifts;
    const bonds = pairs.length / 2;
    const { rank, radius } = bondLooks(this.look.looks(numbers));
    const kinds = (this.kinds = new Uint8Array(bonds));
    // One pass into one interleaved buffer (a bond to another cell's image: two halves).
    const d = this.reserve(shifts ? 2 * bonds : bonds);
    const colors = this.atoms.colors;
    let sticks = 0;
    let o = 0; // floats written
    for (let b = 0; b < bonds; b++) {
      const i = pairs[2 * b], j = pairs[2 * b + 1];
      const kind = (kinds[b] = RANK_KIND[Math.min(rank[i], rank[j])]);
      if (kind !== BondKind.Stick) continue;
      sticks++;
      const r = Math.min(radius[i], radius[j]);
      const n0 = shifts ? shifts[3 * b] : 0, n1 = shifts ? shifts[3 * b + 1] : 0, n2 = shifts ? shifts[3 * b + 2] : 0;
      if (!n0 && !n1 && !n2) {
        d[o] = p[3 * i]; d[o + 1] = p[3 * i + 1]; d[o + 2] = p[3 * i + 2];
        d[o + 3] = p[3 * j]; d[o + 4] = p[3 * j + 1]; d[o + 5] = p[3 * j + 2];
        d[o + 6] = colors[3 * i]; d[o + 7] = colors[3 * i + 1]; d[o + 8] = colors[3 * i + 2];
        d[o + 9] = colors[3 * j]; d[o + 10] = colors[3 * j + 1]; d[o + 11] = colors[3 * j + 2];
        d[o + 12] = r;
        o += STRIDE;
        continue;
      }
      // Across the boundary: from each atom half way to the other's bonded image.
      for (let k = 0; k < 3; k++) {
        const half = (p[3 * j + k] + n0 * cell![k] + n1 * cell![3 + k] + n2 * cell![6 + k] - p[3 * i + k]) / 2;
        d[o + k] = p[3 * i + k];
        d[o + 3 + k] = p[3 * i + k] + half;
        d[o + 6 + k] = d[o + 9 + k] = colors[3 * i + k];
        d[o + STRIDE + k] = p[3 * j + k];
        d[o + STRIDE + 3 + k] = p[3 * j + k] - half;
        d[o + STRIDE + 6 + k] = d[o + STRIDE + 9 + k] = colors[3 * j + k];
      }
      d[o + 12] = d[o + STRIDE + 12] = r;
      o += 2 * STRIDE;
    }
    this.count = sticks;
    // Upload only the part written (none: nothing, where a range of 0 would be all).
    if (o) {
      this.buffer.clearUpdateRanges();
      this.buffer.addUpdateRange(0, o);
      this.buffer.needsUpdate = true;
    }
    geometry.instanceCount = o / STRIDE;
  }

  /** The interleaved per-instance array, with room for ``instances`` (grown by half when short). */
  private reserve(instances: number): Float32Array {
    if (this.buffer.count < instances) {
      const capacity = Math.max(instances, Math.ceil(this.buffer.count * 1.5), 16);
      this.buffer = new InstancedInterleavedBuffer(new Float32Array(capacity * STRIDE), STRIDE);
      this.buffer.setUsage(DynamicDrawUsage);
      const geometry = this.object.geometry;
      for (const [name, size, offset] of INSTANCE_ATTRIBUTES) setInstanced(geometry, name, new InterleavedBufferAttribute(this.buffer, size, offset));
    }
    return this.buffer.array as Float32Array;
  }

  dispose(): void {
    this.object.geometry.dispose();
    this.object.material.dispose();
  }
}
