// Frames from a read response (columnar batches, docs/protocol.md "Frame batches").
import { NDArray, TypedArray, toNumbers, toUint8 } from "./codec";

export interface Column {
  values?: NDArray;
  shapes?: NDArray;
  objects?: unknown[];
  present?: NDArray;
}

export interface ReadResponse {
  length: number;
  seq: number;
  order_version: number;
  indices: NDArray;
  ids: string[];
  versions: NDArray;
  hashes: string[];
  data: Record<string, Column>;
}

export interface Frame {
  index: number;
  id: string;
  version: number;
  /** (N*3) positions, float64 or float32 as sent. */
  positions: Float64Array | Float32Array;
  /** (N*3) positions as float32 for drawing (the same array when sent as float32). */
  display: Float32Array;
  /** (N) atomic numbers. */
  numbers: Uint8Array;
  /** (9) cell row vectors, if sent. */
  cell: Float64Array | Float32Array | null;
  pbc: boolean[] | null;
  /** Every other field: NDArray views (per-atom arrays, info, calc) or plain values. */
  fields: Record<string, NDArray | unknown>;
  /** Bytes held (for the cache). */
  bytes: number;
}

/** Frame i of a column: a view when only the first axis is padded, else a copy. */
export function columnFrame(column: Column, i: number): NDArray | unknown | undefined {
  if (column.present && !column.present.data[i]) return undefined;
  if (column.objects) return column.objects[i];
  const values = column.values;
  if (!values) return undefined;
  const maxShape = values.shape.slice(1);
  const stride = maxShape.reduce((a, b) => a * b, 1);
  const base = i * stride;
  if (!column.shapes) {
    return new NDArray(values.dtype, maxShape, values.data.subarray(base, base + stride) as TypedArray);
  }
  const ndim = column.shapes.shape[1] ?? 0;
  const shape = toNumbers(column.shapes.data.subarray(i * ndim, (i + 1) * ndim) as TypedArray);
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.slice(1).every((s, k) => s === maxShape[k + 1])) {
    return new NDArray(values.dtype, shape, values.data.subarray(base, base + count) as TypedArray);
  }
  // Padding on a later axis: gather the rows (rare: e.g. variable-width per-atom arrays).
  const Ctor = values.data.constructor as { new (n: number): TypedArray };
  const out = new Ctor(count);
  const maxStrides = strides(maxShape);
  const outStrides = strides(shape);
  for (let k = 0; k < count; k++) {
    let src = base;
    let rest = k;
    for (let d = 0; d < shape.length; d++) {
      const idx = Math.floor(rest / outStrides[d]);
      rest -= idx * outStrides[d];
      src += idx * maxStrides[d];
    }
    (out as unknown as { [k: number]: unknown })[k] = values.data[src];
  }
  return new NDArray(values.dtype, shape, out);
}

/** The positions column as float32, converted once for all its frames (drawing needs no
 * more, and per-frame updates then upload without converting). */
function float32Column(column: Column | undefined): Column | undefined {
  const values = column?.values;
  if (!column || !values) return undefined;
  if (values.data instanceof Float32Array) return column;
  return { ...column, values: new NDArray("<f4", values.shape, new Float32Array(values.data as ArrayLike<number>)) };
}

function strides(shape: number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) out[d] = out[d + 1] * shape[d + 1];
  return out;
}

/** Split a read response into frames (views into the response buffer, no copies). */
export function framesOf(response: ReadResponse): Frame[] {
  const indices = toNumbers(response.indices.data);
  const versions = toNumbers(response.versions.data);
  const display = float32Column(response.data?.positions);
  const frames: Frame[] = [];
  for (let i = 0; i < indices.length; i++) {
    const fields: Record<string, unknown> = {};
    let bytes = 0;
    for (const [name, column] of Object.entries(response.data ?? {})) {
      const value = columnFrame(column, i);
      if (value === undefined) continue;
      fields[name] = value;
      if (value instanceof NDArray) bytes += value.data.byteLength;
    }
    const positions = fields.positions as NDArray | undefined;
    const numbers = fields.numbers as NDArray | undefined;
    const cell = fields.cell as NDArray | undefined;
    const pbc = fields.pbc as NDArray | undefined;
    delete fields.positions;
    delete fields.numbers;
    delete fields.cell;
    delete fields.pbc;
    const shown = display && columnFrame(display, i);
    const drawn = shown instanceof NDArray ? (shown.data as Float32Array) : null;
    if (drawn && drawn !== positions?.data) bytes += drawn.byteLength;
    frames.push({
      index: indices[i],
      id: response.ids[i],
      version: versions[i],
      positions: (positions?.data as Float64Array | Float32Array) ?? new Float64Array(0),
      display: drawn ?? new Float32Array(0),
      numbers: numbers ? toUint8(numbers.data) : new Uint8Array(0),
      cell: cell && cell.size === 9 ? (cell.data as Float64Array | Float32Array) : null,
      pbc: pbc ? Array.from(pbc.data as Uint8Array, (v) => !!v) : null,
      fields,
      bytes: bytes + 64,
    });
  }
  return frames;
}
