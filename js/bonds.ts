// Bonds from positions by a cell list: i-j bonded when |ri - rj| < (Ri + Rj) * factor with
// Ri the covalent radii. Recomputed per frame; no bonds across periodic boundaries.
import { COVALENT_RADII } from "./elements";

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
