// Frames of one room in the browser: one small read per frame asked for, chunks read ahead
// (prefetch), a small room read whole in the background (preload), a byte-bounded LRU cache,
// invalidated by the room's data events.
import type { DataClient } from "./data";
import type { Frame } from "./frames";
import type { DataEvent } from "./protocol";

export interface FrameStoreOptions {
  fields?: string[];
  maxBytes?: number;
  /** Bytes per request to aim for (chunks of several small frames, one big frame). */
  chunkBytes?: number;
  maxChunk?: number;
  /** Rooms whose frames take at most this many bytes (estimated from the last frame read)
   * are read whole in the background (``preload``); default maxBytes / 4. */
  preloadBytes?: number;
}

/** A read in flight: frames ``start`` up to ``stop``. */
interface Read {
  promise: Promise<void>;
  start: number;
  stop: number;
  /** The store's generation when it began: of an older one, its frames are dropped. */
  generation: number;
}

export class FrameStore {
  length = 0;
  private cache = new Map<number, Frame>();
  /** Reads in flight by ``start:stop``: their promise and the range they bring (also those
   * a change made stale, until they end: a preload waits for them too). */
  private inflight = new Map<string, Read>();
  private bytes = 0;
  private frameBytes = 0;
  private generation = 0;
  /** Called, when the page is idle, with each frame a preload read: work its draw needs done
   * ahead (the renderer's ``prepare``), so that a jump to it costs only the draw. */
  onPreloaded: ((frame: Frame) => void) | null = null;
  /** The first frame ``preload`` has not yet seen cached (reset when the frames are forgotten). */
  private preloadFrom = 0;
  private preloading = false;
  /** The fields read for every frame: those drawn, plus ``setExtraFields``'. */
  fields: string[];
  private readonly baseFields: string[];
  private readonly maxBytes: number;
  private readonly chunkBytes: number;
  private readonly maxChunk: number;
  private readonly preloadBytes: number;

  constructor(private readonly data: DataClient, readonly room: string, options: FrameStoreOptions = {}) {
    // "?": optional, sent only where frames have them (docs/protocol.md)
    this.fields = this.baseFields = options.fields ?? ["positions", "numbers", "cell?", "pbc?", "arrays.colors?", "arrays.radii?"];
    this.maxBytes = options.maxBytes ?? 256 << 20;
    this.chunkBytes = options.chunkBytes ?? 1 << 20;
    this.maxChunk = options.maxChunk ?? 32;
    this.preloadBytes = options.preloadBytes ?? this.maxBytes / 4;
  }

  get(index: number): Frame | undefined {
    const frame = this.cache.get(index);
    if (frame) {
      // LRU: most recently used last
      this.cache.delete(index);
      this.cache.set(index, frame);
    }
    return frame;
  }

  has(index: number): boolean {
    return this.cache.has(index);
  }

  /** Read also ``extra`` (optional fields: e.g. the property atoms are coloured by) with every
   * frame; true when that changed the fields (the frames read are then forgotten). */
  setExtraFields(extra: string[]): boolean {
    const wanted = [...this.baseFields, ...[...new Set(extra)].filter((f) => !this.baseFields.includes(f) && !this.baseFields.includes(`${f}?`)).map((f) => `${f}?`)];
    if (wanted.join(",") === this.fields.join(",")) return false;
    this.fields = wanted;
    this.clear();
    return true;
  }

  /** Frames per request: 1 for big frames, up to maxChunk for small ones. */
  chunkSize(): number {
    if (!this.frameBytes) return 1;
    return Math.max(1, Math.min(this.maxChunk, Math.floor(this.chunkBytes / this.frameBytes)));
  }

  /** Whether a read in flight brings frame ``index``: any, or (not ``joinChunk``) one of
   * that frame alone. */
  loading(index: number, joinChunk = true): boolean {
    return this.readOf(index, joinChunk) !== undefined;
  }

  private readOf(index: number, joinChunk: boolean): Read | undefined {
    const current = (read: Read | undefined) => (read?.generation === this.generation ? read : undefined);
    if (!joinChunk) return current(this.inflight.get(`${index}:${index + 1}`));
    for (const read of this.inflight.values()) if (current(read) && read.start <= index && index < read.stop) return read;
    return undefined;
  }

  /** Load frame ``index`` by a read of that frame alone, or from a read in flight that brings
   * it: any (``joinChunk``: playback, whose chunks are read ahead) or one of that frame alone
   * (a jump never waits for a chunk). ``signal`` aborts the read (a newer request made it
   * stale: scrubbing past big frames must not queue them up). */
  async load(index: number, signal?: AbortSignal, joinChunk = false): Promise<Frame> {
    const cached = this.get(index);
    if (cached) return cached;
    // A change event may invalidate a read in flight (its frames are dropped): read again.
    for (let attempt = 0; attempt < 20; attempt++) {
      await (this.readOf(index, joinChunk)?.promise ?? this.fetchRange(index, index + 1, signal));
      const frame = this.cache.get(index);
      if (frame) return frame;
      if (this.length && index >= this.length) break;
    }
    throw new RangeError(`frame ${index} is not in room ${this.room} (length ${this.length})`);
  }

  /** Start loading the frames after ``index`` (up to ``ahead`` of them), wrapping around. */
  prefetch(index: number, ahead: number): void {
    if (!this.length) return;
    const chunk = this.chunkSize();
    for (let k = 1; k <= ahead; k++) {
      const i = (index + k) % this.length;
      if (this.cache.has(i) || this.loading(i)) continue;
      const start = chunk > 1 ? Math.floor(i / chunk) * chunk : i;
      void this.fetchRange(start, Math.min(this.length, start + chunk)).catch(() => undefined);
      return; // one request at a time ahead
    }
  }

  /** Whether the whole room fits ``preloadBytes`` (judged by the last frame read). */
  small(): boolean {
    return this.length > 0 && this.frameBytes > 0 && this.length * this.frameBytes <= this.preloadBytes;
  }

  /** Read a small room whole in the background, from now on: one chunk at a time, the next
   * when no other read is in flight (a jump's or playback's come first), until every frame
   * is cached or the frames read reach ``preloadBytes``. The navigator starts it once a frame
   * is on screen; frames dropped by data events are read again. A jump to any frame of such
   * a room is then served from the cache. */
  preload(): void {
    this.preloading = true;
    this.preloadNext();
  }

  private preloadNext(): void {
    if (!this.preloading || this.inflight.size || !this.small() || this.bytes >= this.preloadBytes) return;
    while (this.preloadFrom < this.length && this.cache.has(this.preloadFrom)) this.preloadFrom++;
    if (this.preloadFrom >= this.length) return;
    const chunk = this.chunkSize();
    const start = Math.floor(this.preloadFrom / chunk) * chunk;
    const stop = Math.min(this.length, start + chunk);
    void this.fetchRange(start, stop).then(() => this.prepare(start, stop), () => undefined);
  }

  /** Hand the frames ``start`` up to ``stop`` that a preload brought to ``onPreloaded``, one
   * per task (the page stays responsive between them). */
  private prepare(start: number, stop: number): void {
    const generation = this.generation;
    const next = (index: number): void => {
      if (index >= stop || !this.onPreloaded || generation !== this.generation) return;
      const frame = this.cache.get(index);
      if (frame) this.onPreloaded(frame);
      setTimeout(() => next(index + 1));
    };
    setTimeout(() => next(start));
  }

  private fetchRange(start: number, stop: number, signal?: AbortSignal): Promise<void> {
    const key = `${start}:${stop}`;
    const generation = this.generation;
    const existing = this.inflight.get(key);
    if (existing?.generation === generation) return existing.promise;
    const index = stop - start === 1 ? String(start) : `${start}:${stop}`;
    const promise: Promise<void> = this.data
      .frames(this.room, index, this.fields, signal)
      .then((read) => {
        if (generation !== this.generation) return;
        this.length = read.length;
        for (const frame of read.frames) this.put(frame);
      })
      .finally(() => {
        if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
      });
    this.inflight.set(key, { promise, start, stop, generation });
    // Once the reader has had the frames (and asked for more), the store may be idle: go on
    // preloading; a failed read ends it until the next ``preload`` (but for a read a change
    // had made stale: the preload waited for it, and reads again what it dropped).
    const next = () => {
      if (this.preloading) setTimeout(() => this.preloadNext());
    };
    promise.then(next, () => (generation !== this.generation ? next() : undefined));
    return promise;
  }

  private put(frame: Frame): void {
    const old = this.cache.get(frame.index);
    if (old) {
      this.bytes -= old.bytes;
      this.cache.delete(frame.index);
    }
    this.cache.set(frame.index, frame);
    this.bytes += frame.bytes;
    this.frameBytes = frame.bytes;
    for (const [key, value] of this.cache) {
      if (this.bytes <= this.maxBytes) break;
      this.cache.delete(key);
      this.bytes -= value.bytes;
    }
  }

  /** Replace a cached frame by a local copy (e.g. after an edit, before the refetch). */
  replace(frame: Frame): void {
    this.put(frame);
  }

  /** Stop reading and preparing in the background and forget every frame (the view closed
   * or moved to another room). */
  dispose(): void {
    this.preloading = false;
    this.onPreloaded = null;
    this.clear();
  }

  /** Forget everything (the room changed order or must be re-read): reads in flight bring
   * nothing any more. */
  clear(): void {
    this.generation += 1;
    this.cache.clear();
    this.bytes = 0;
    this.preloadFrom = 0;
  }

  /** Apply data events; returns the indices whose content changed (null: everything). */
  apply(events: DataEvent[]): Set<number> | null {
    let all = false;
    const changed = new Set<number>();
    for (const event of events) {
      if (event.type === "frame_updated") {
        const index = event.frame;
        const old = this.cache.get(index);
        if (old && old.version === event.version) continue;
        if (old) {
          this.cache.delete(index);
          this.bytes -= old.bytes;
        }
        // a read in flight must not resurrect the stale copy (its frames are dropped)
        this.generation += 1;
        this.preloadFrom = Math.min(this.preloadFrom, index);
        changed.add(index);
      } else {
        // frames_inserted, frames_deleted, frames_spliced: the order changed
        this.length = event.length;
        all = true;
      }
    }
    if (all) this.clear();
    // frames dropped: read them again once the reader's own reads are on their way
    if (this.preloading && (all || changed.size)) setTimeout(() => this.preloadNext());
    return all ? null : changed;
  }
}
