// Per-atom properties of a frame (``arrays.*``, ``calc.*`` with N as first dimension): which
// a frame has, and the numbers of one by name, a component or the norm of an N x 3 one
// (``calc.forces[norm]``, ``calc.forces[x]``), for colouring, arrows and the inspector.
import { NDArray } from "./codec";
import type { Frame } from "./frames";

/** Fields the viewer reads for drawing: never offered as properties. */
const STYLE_FIELDS = new Set(["arrays.colors", "arrays.radii"]);
const COMPONENTS: Record<string, number> = { x: 0, y: 1, z: 2, "0": 0, "1": 1, "2": 2 };

/** A per-atom property named ``field`` (``calc.forces``) and, for an N x k one, which
 * column (0-2, from ``[x]``/``[0]``...) or ``"norm"`` (``[norm]``, the default). */
export interface PropertySpec {
  field: string;
  component: number | "norm" | null;
}

/** Parse ``"calc.forces[x]"``; null for an empty or malformed name. */
export function parseProperty(spec: string): PropertySpec | null {
  const match = /^([A-Za-z_][\w.\-]*)(?:\[(\w+)\])?$/.exec(spec.trim());
  if (!match) return null;
  const [, field, part] = match;
  if (part === undefined) return { field, component: null };
  if (part === "norm") return { field, component: "norm" };
  if (part in COMPONENTS) return { field, component: COMPONENTS[part] };
  return null;
}

/** The per-atom arrays of ``frame`` (``arrays.*``, ``calc.*``): numeric, first dimension
 * its atom count. */
export function perAtomFields(frame: Frame): Record<string, NDArray> {
  const n = frame.numbers.length;
  const out: Record<string, NDArray> = {};
  for (const [name, value] of Object.entries(frame.fields)) {
    if (!/^(arrays|calc)\./.test(name) || STYLE_FIELDS.has(name)) continue;
    if (value instanceof NDArray && value.shape[0] === n && value.shape.length <= 2) out[name] = value;
  }
  return out;
}

/** The names a person can colour by: each per-atom property, and for an N x 3 one its norm
 * and components. */
export function propertyChoices(frame: Frame): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(perAtomFields(frame))) {
    if (value.shape.length === 1) out.push(name);
    else if (value.shape[1] === 3) out.push(`${name}[norm]`, `${name}[x]`, `${name}[y]`, `${name}[z]`);
  }
  return out;
}

/** The names of the N x 3 per-atom properties (what arrows can show). */
export function vectorChoices(frame: Frame): string[] {
  return Object.entries(perAtomFields(frame))
    .filter(([, value]) => value.shape.length === 2 && value.shape[1] === 3)
    .map(([name]) => name);
}

/** One number per atom of property ``spec`` in ``frame`` (null: the frame lacks it), and
 * whether its values are labels (an integer 1-D array: coloured by category). */
export function propertyValues(frame: Frame, spec: PropertySpec): { values: Float64Array; categorical: boolean } | null {
  const array = frame.fields[spec.field];
  const n = frame.numbers.length;
  if (!(array instanceof NDArray) || array.shape[0] !== n) return null;
  const data = array.data as ArrayLike<number | bigint>;
  const width = array.shape.length === 1 ? 1 : array.shape[1];
  if (array.shape.length > 2 || !width) return null;
  const values = new Float64Array(n);
  if (width === 1) {
    for (let i = 0; i < n; i++) values[i] = Number(data[i]);
    return { values, categorical: /^[<|][iub]/.test(array.dtype) };
  }
  const component = spec.component ?? "norm";
  if (component === "norm") {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < width; k++) s += Number(data[i * width + k]) ** 2;
      values[i] = Math.sqrt(s);
    }
  } else {
    if (component >= width) return null;
    for (let i = 0; i < n; i++) values[i] = Number(data[i * width + component]);
  }
  return { values, categorical: false };
}

/** The N x 3 property ``field`` of ``frame`` as float32 (a view when sent as float32);
 * null when the frame lacks it. */
export function vectorValues(frame: Frame, field: string): Float32Array | null {
  const array = frame.fields[field];
  const n = frame.numbers.length;
  if (!(array instanceof NDArray) || array.shape.length !== 2 || array.shape[0] !== n || array.shape[1] !== 3) return null;
  if (array.data instanceof Float32Array) return array.data;
  return Float32Array.from(array.data as ArrayLike<number>, Number);
}

/** Atom ``i``'s value of each per-atom property of ``frame``, as short text. */
export function atomValues(frame: Frame, i: number): Array<[string, string]> {
  const numeric = Object.entries(perAtomFields(frame)).map(([name, value]): [string, string] => {
    const width = value.shape.length === 1 ? 1 : value.shape[1];
    const row = Array.from(value.data.subarray(i * width, (i + 1) * width) as ArrayLike<number | bigint>);
    return [name, row.map(formatNumber).join(", ")];
  });
  // per-atom strings (PDB's arrays.residuenames): a list of N strings per frame
  const n = frame.numbers.length;
  const strings = Object.entries(frame.fields)
    .filter(([name, value]) => name.startsWith("arrays.") && Array.isArray(value) && value.length === n && typeof value[i] === "string")
    .map(([name, value]): [string, string] => [name, (value as string[])[i]]);
  return [...numeric, ...strings];
}

/** A number in at most 4 significant digits (integers whole). */
export function formatNumber(x: number | bigint): string {
  if (typeof x === "bigint" || Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(4)));
}
