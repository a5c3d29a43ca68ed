// The numbers a property plot shows: per-frame scalar fields of a room (calc.energy,
// info.temperature, ...) for every frame, read with one request per page of frames that
// asks for only those fields, kept up to date as frames change. No DOM: plots.ts draws them.
import type { FieldInfo } from "../data";
import type { Column, ReadResponse } from "../frames";

/** Frames per read: 20,000 frames of a few numbers (plus ids and hashes) are ~2 MB. */
export const PAGE_FRAMES = 20_000;
/** A change of more frames than this is re-read whole rather than by index list. */
export const MAX_LISTED = 200;

/** Reads frames ``index`` (a slice ``a:b`` or a list ``1,5,7``) with only ``fields``. */
export type ReadColumns = (index: string, fields: string[]) => Promise<ReadResponse>;

/** The fields that hold one number per frame (what can be plotted against the frames). */
export function plottable(fields: Record<string, FieldInfo>): string[] {
  return Object.entries(fields)
    .filter(([, info]) => info.dtype !== null && info.shape.length === 0)
    .map(([name]) => name)
    .sort();
}

/** Each frame's number of ``column`` (NaN where a frame lacks it): one pass, no objects. */
export function numbersOf(column: Column | undefined, count: number): Float64Array {
  const out = new Float64Array(count).fill(NaN);
  const values = column?.values;
  if (!values || values.shape.length !== 1) return out; // a scalar per frame only
  const present = column.present?.data;
  const data = values.data;
  for (let i = 0; i < count; i++) if (!present || present[i]) out[i] = Number(data[i]);
  return out;
}

/** Per-frame values of some fields for a room: ``values.get(name)[frame]`` (NaN: missing). */
export class PlotData {
  length = 0;
  fields: string[] = [];
  readonly values = new Map<string, Float64Array>();
  /** Reads done (for tests and the page's markers). */
  reads = 0;
  private generation = 0;
  private running: Promise<void> | null = null;
  private pending: Set<number> | null | undefined = undefined;

  constructor(private readonly read: ReadColumns, private readonly pageFrames = PAGE_FRAMES) {}

  /** Show ``fields`` of a room of ``length`` frames: read them all. */
  load(fields: string[], length: number): Promise<void> {
    this.fields = [...new Set(fields)];
    this.length = length;
    this.values.clear();
    this.generation += 1;
    return this.refresh(null);
  }

  /** Frames changed (``changed``: their indices; null: any, e.g. inserted or deleted) in a
   * room now ``length`` long: re-read what changed. Changes that arrive during a read are
   * merged and read once it is done. */
  refresh(changed: Set<number> | null, length = this.length): Promise<void> {
    this.length = length;
    if (this.pending === undefined || changed === null || this.pending === null) {
      this.pending = changed === null ? null : new Set(changed);
    } else {
      for (const index of changed) this.pending.add(index);
    }
    if (!this.running) {
      this.running = this.drain().finally(() => (this.running = null));
    }
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const changed = this.pending;
      this.pending = undefined;
      if (!this.fields.length) continue;
      const generation = this.generation;
      if (changed === null || changed.size > MAX_LISTED) await this.readAll(generation);
      else if (changed.size) await this.readListed([...changed].filter((i) => i < this.length).sort((a, b) => a - b), generation);
    }
  }

  private async readAll(generation: number): Promise<void> {
    const fresh = new Map(this.fields.map((name) => [name, new Float64Array(this.length).fill(NaN)]));
    for (let start = 0; start < this.length; start += this.pageFrames) {
      const stop = Math.min(this.length, start + this.pageFrames);
      const read = await this.readPage(`${start}:${stop}`);
      if (generation !== this.generation) return;
      this.put(read, fresh);
      if (read.length < this.length) break; // frames deleted meanwhile: a refresh follows
    }
    if (generation !== this.generation) return;
    this.values.clear();
    for (const [name, values] of fresh) this.values.set(name, values);
  }

  private async readListed(indices: number[], generation: number): Promise<void> {
    if (!indices.length) return;
    const read = await this.readPage(indices.join(","));
    if (generation !== this.generation) return;
    for (const name of this.fields) {
      const old = this.values.get(name);
      if (!old || old.length !== this.length) {
        const grown = new Float64Array(this.length).fill(NaN);
        if (old) grown.set(old.subarray(0, this.length));
        this.values.set(name, grown);
      }
    }
    this.put(read, this.values);
  }

  private readPage(index: string): Promise<ReadResponse> {
    this.reads += 1;
    // "?": a field no frame of the page has is left out, not a 400
    return this.read(index, this.fields.map((name) => `${name}?`));
  }

  /** Copy a read's values into ``into`` at the frames' indices. */
  private put(read: ReadResponse, into: Map<string, Float64Array>): void {
    const indices = read.indices.data;
    const count = indices.length;
    for (const name of this.fields) {
      const target = into.get(name)!;
      const numbers = numbersOf(read.data?.[name], count);
      for (let i = 0; i < count; i++) {
        const index = Number(indices[i]);
        if (index < target.length) target[index] = numbers[i];
      }
    }
  }
}

/** The points of ``y`` against ``x`` where both are known, sorted by x (a property plotted
 * against another): ``frames[k]`` is the frame of point k. */
export function sortedBy(x: Float64Array, ys: Float64Array[]): { x: number[]; ys: (number | null)[][]; frames: Int32Array } {
  const frames = Int32Array.from({ length: x.length }, (_, i) => i).filter((i) => !Number.isNaN(x[i]));
  frames.sort((a, b) => x[a] - x[b]);
  return {
    x: Array.from(frames, (i) => x[i]),
    ys: ys.map((y) => Array.from(frames, (i) => (Number.isNaN(y[i]) ? null : y[i]))),
    frames,
  };
}

/** The index of the value of sorted ``xs`` nearest ``x`` (-1: none). */
export function nearest(xs: ArrayLike<number>, x: number): number {
  if (!xs.length) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && x - xs[lo - 1] <= xs[lo] - x ? lo - 1 : lo;
}
