// Geometry of atoms: distances, angles and dihedrals (what the measure tool shows), and the
// cell's algebra for periodic systems (fractional coordinates, wrapping, lattice offsets).
// Positions are flat (N*3) arrays; a cell is 9 numbers, its row vectors a, b, c.

export type Vec3 = [number, number, number];

function at(p: ArrayLike<number>, i: number): Vec3 {
  return [p[3 * i], p[3 * i + 1], p[3 * i + 2]];
}

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: Vec3): number => Math.sqrt(dot(a, a));

/** |r_j - r_i|, Å. */
export function distance(p: ArrayLike<number>, i: number, j: number): number {
  return norm(sub(at(p, j), at(p, i)));
}

/** The angle i-j-k at j, degrees (as ``ase.Atoms.get_angle``). */
export function angle(p: ArrayLike<number>, i: number, j: number, k: number): number {
  const u = sub(at(p, i), at(p, j));
  const v = sub(at(p, k), at(p, j));
  const c = dot(u, v) / (norm(u) * norm(v));
  return (Math.acos(Math.min(1, Math.max(-1, c))) * 180) / Math.PI;
}

/** The dihedral i-j-k-l, degrees in [0, 360) (as ``ase.Atoms.get_dihedral``). */
export function dihedral(p: ArrayLike<number>, i: number, j: number, k: number, l: number): number {
  const b0 = sub(at(p, j), at(p, i));
  const b1 = sub(at(p, k), at(p, j));
  const b2 = sub(at(p, l), at(p, k));
  const n1 = cross(b0, b1);
  const n2 = cross(b1, b2);
  const m = cross(n1, b1);
  const x = dot(n1, n2) * norm(b1);
  const y = dot(m, n2);
  const deg = (Math.atan2(y, x) * 180) / Math.PI;
  // ase: the angle from the plane (i, j, k) to (j, k, l), counted as the right-hand rule
  return ((-deg % 360) + 360) % 360;
}

export type MeasureKind = "distance" | "angle" | "dihedral";

/** What ``atoms`` (2, 3 or 4 of them) measure, and its value (Å or degrees); null for
 * another count or an index out of range. */
export function measure(p: ArrayLike<number>, atoms: number[]): { kind: MeasureKind; value: number } | null {
  const n = p.length / 3;
  if (atoms.some((a) => !Number.isInteger(a) || a < 0 || a >= n)) return null;
  const [a, b, c, d] = atoms;
  if (atoms.length === 2) return { kind: "distance", value: distance(p, a, b) };
  if (atoms.length === 3) return { kind: "angle", value: angle(p, a, b, c) };
  if (atoms.length === 4) return { kind: "dihedral", value: dihedral(p, a, b, c, d) };
  return null;
}

// -- the cell ---------------------------------------------------------------------------------

/** Whether ``cell`` spans a volume (a periodic view needs one). */
export function hasVolume(cell: ArrayLike<number> | null): cell is ArrayLike<number> {
  return !!cell && Math.abs(determinant(cell)) > 1e-9;
}

function determinant(c: ArrayLike<number>): number {
  return c[0] * (c[4] * c[8] - c[5] * c[7]) - c[1] * (c[3] * c[8] - c[5] * c[6]) + c[2] * (c[3] * c[7] - c[4] * c[6]);
}

/** The inverse of the 3x3 matrix ``c`` (row-major): fractional = r · inverse. */
export function inverse(c: ArrayLike<number>): Float64Array {
  const det = determinant(c);
  const m = new Float64Array([
    c[4] * c[8] - c[5] * c[7], c[2] * c[7] - c[1] * c[8], c[1] * c[5] - c[2] * c[4],
    c[5] * c[6] - c[3] * c[8], c[0] * c[8] - c[2] * c[6], c[2] * c[3] - c[0] * c[5],
    c[3] * c[7] - c[4] * c[6], c[1] * c[6] - c[0] * c[7], c[0] * c[4] - c[1] * c[3],
  ]);
  for (let k = 0; k < 9; k++) m[k] /= det;
  return m;
}

/** The cell's heights: its volume over the area of the face opposite each vector (the
 * distance between the two faces a periodic image crosses). */
export function heights(c: ArrayLike<number>): Vec3 {
  const a = at(c, 0), b = at(c, 1), d = at(c, 2);
  const volume = Math.abs(determinant(c));
  return [volume / norm(cross(b, d)), volume / norm(cross(d, a)), volume / norm(cross(a, b))];
}

/** Fractional coordinates of ``positions`` in ``cell`` (N*3). */
export function fractional(positions: ArrayLike<number>, cell: ArrayLike<number>, out = new Float64Array(positions.length)): Float64Array {
  const m = inverse(cell);
  for (let i = 0; i < positions.length; i += 3) {
    const x = positions[i], y = positions[i + 1], z = positions[i + 2];
    out[i] = x * m[0] + y * m[3] + z * m[6];
    out[i + 1] = x * m[1] + y * m[4] + z * m[7];
    out[i + 2] = x * m[2] + y * m[5] + z * m[8];
  }
  return out;
}

/** ``positions`` moved into the cell along its periodic directions (``pbc``; null: all),
 * written to ``out`` (as ``ase.geometry.wrap_positions``). */
export function wrap(positions: ArrayLike<number>, cell: ArrayLike<number>, pbc: boolean[] | null, out: Float32Array): Float32Array {
  const f = fractional(positions, cell);
  for (let i = 0; i < f.length; i += 3) {
    for (let k = 0; k < 3; k++) if (!pbc || pbc[k]) f[i + k] -= Math.floor(f[i + k]);
    out[i] = f[i] * cell[0] + f[i + 1] * cell[3] + f[i + 2] * cell[6];
    out[i + 1] = f[i] * cell[1] + f[i + 1] * cell[4] + f[i + 2] * cell[7];
    out[i + 2] = f[i] * cell[2] + f[i + 1] * cell[5] + f[i + 2] * cell[8];
  }
  return out;
}

/** The lattice offsets i·a + j·b + k·c of a ``repeat`` = (n, m, l) block of cells, (0,0,0)
 * first: 3 numbers each. */
export function latticeOffsets(cell: ArrayLike<number>, repeat: Vec3): Float32Array {
  const [n, m, l] = repeat.map((r) => Math.max(1, Math.floor(r)));
  const out = new Float32Array(n * m * l * 3);
  let o = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++)
      for (let k = 0; k < l; k++) {
        for (let d = 0; d < 3; d++) out[o++] = i * cell[d] + j * cell[3 + d] + k * cell[6 + d];
      }
  return out;
}
