// Colour by property: one number per atom mapped through a colour map (matplotlib's tables,
// colormaps.ts) over a range (automatic: the frame's min and max; or fixed), or integer
// labels through a categorical map.
import { Color, SRGBColorSpace } from "three";
import type { Frame } from "../frames";
import { parseProperty, propertyValues, type PropertySpec } from "../properties";
import { CATEGORICAL_MAPS, CONTINUOUS_MAPS } from "./colormaps";

export const COLORMAPS = Object.keys(CONTINUOUS_MAPS);
export const DEFAULT_COLORMAP = "viridis";
const CATEGORICAL = "tab10";

/** Colours of a map as linear RGB triples (three.js works in linear colour). */
const tables = new Map<string, Float32Array>();

export function colormapTable(name: string): Float32Array {
  let table = tables.get(name);
  if (!table) {
    const hex = CONTINUOUS_MAPS[name] ?? CATEGORICAL_MAPS[name];
    if (!hex) throw new Error(`unknown colour map "${name}": one of ${[...COLORMAPS, ...Object.keys(CATEGORICAL_MAPS)].join(", ")}`);
    const count = hex.length / 6;
    table = new Float32Array(count * 3);
    const c = new Color();
    for (let k = 0; k < count; k++) {
      c.setHex(parseInt(hex.slice(6 * k, 6 * k + 6), 16), SRGBColorSpace);
      table.set([c.r, c.g, c.b], 3 * k);
    }
    tables.set(name, table);
  }
  return table;
}

/** The sRGB hex colours of a map (for the colour bar's CSS gradient). */
export function colormapHex(name: string, stops: number): string[] {
  const hex = CONTINUOUS_MAPS[name] ?? CATEGORICAL_MAPS[name] ?? "";
  const count = hex.length / 6;
  return Array.from({ length: stops }, (_, s) => {
    const k = Math.round((s / Math.max(1, stops - 1)) * (count - 1));
    return "#" + hex.slice(6 * k, 6 * k + 6);
  });
}

/** The sRGB hex colour of category ``value`` (a label). */
export function categoryHex(value: number): string {
  const hex = CATEGORICAL_MAPS[CATEGORICAL];
  const k = mod(value, hex.length / 6);
  return "#" + hex.slice(6 * k, 6 * k + 6);
}

function mod(a: number, n: number): number {
  return ((Math.round(a) % n) + n) % n;
}

/** What a person chose: the property, the map, a fixed range or null (automatic). */
export interface ColoringOptions {
  property: string;
  colormap?: string;
  range?: [number, number] | null;
}

/** What the colour bar shows: the range mapped (continuous) or the labels present. */
export type ColorKey =
  | { kind: "continuous"; property: string; colormap: string; min: number; max: number }
  | { kind: "categorical"; property: string; labels: number[] };

/** Maps one property of each frame to per-atom colours. */
export class Coloring {
  readonly spec: PropertySpec | null;
  readonly colormap: string;

  constructor(readonly options: ColoringOptions) {
    this.spec = parseProperty(options.property);
    this.colormap = options.colormap && CONTINUOUS_MAPS[options.colormap] ? options.colormap : DEFAULT_COLORMAP;
  }

  /** Write the colours of ``frame``'s atoms into ``out`` (linear RGB, 3 per atom); the key
   * for the colour bar, or null when the frame lacks the property (``out`` untouched). */
  apply(frame: Frame, out: Float32Array): ColorKey | null {
    const found = this.spec && propertyValues(frame, this.spec);
    if (!found) return null;
    const { values, categorical } = found;
    const property = this.options.property;
    if (categorical) {
      const table = colormapTable(CATEGORICAL);
      const count = table.length / 3;
      const labels = new Set<number>();
      for (let i = 0; i < values.length; i++) {
        const k = mod(values[i], count);
        labels.add(values[i]);
        out[3 * i] = table[3 * k];
        out[3 * i + 1] = table[3 * k + 1];
        out[3 * i + 2] = table[3 * k + 2];
      }
      return { kind: "categorical", property, labels: [...labels].sort((a, b) => a - b) };
    }
    const [min, max] = this.options.range ?? finiteRange(values);
    mapValues(values, min, max, colormapTable(this.colormap), out);
    return { kind: "continuous", property, colormap: this.colormap, min, max };
  }
}

/** The smallest and largest finite value ([0, 0] when none is). */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? [min, max] : [0, 0];
}

/** Each value's colour in ``table`` (linear RGB triples), ``min`` at its first and ``max``
 * at its last entry, values outside clamped; a NaN is grey. */
export function mapValues(values: ArrayLike<number>, min: number, max: number, table: Float32Array, out: Float32Array): void {
  const last = table.length / 3 - 1;
  const scale = max > min ? last / (max - min) : 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = 0.2;
      continue;
    }
    const k = Math.min(last, Math.max(0, Math.round((v - min) * scale)));
    out[3 * i] = table[3 * k];
    out[3 * i + 1] = table[3 * k + 1];
    out[3 * i + 2] = table[3 * k + 2];
  }
}
