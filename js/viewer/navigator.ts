// Navigation: which frame is asked for and which is on screen. Every request gets a ticket;
// a read that arrives for an older ticket is dropped, and a read in flight that will not
// bring the frame now asked for is aborted. Prefetches around the frame asked for, and once a
// frame is on screen lets the store read a small room whole in the background.
import { DataEvent } from "../protocol";
import type { Frame } from "../frames";
import type { FrameStore } from "../store";

/** Frames read ahead while playing, and while stepping. */
export const PREFETCH_PLAYING = 24;
export const PREFETCH_STEPPING = 4;

/** What navigation reads from the viewer and tells it. */
export interface NavigatorHost {
  /** Put a frame on screen (drawn on the next animation frame); false when there is nothing
   * to draw with. */
  draw(frame: Frame): boolean;
  /** Draw now what would be drawn on the next animation frame. */
  flush(): void;
  /** A frame was asked for (not yet on screen perhaps). */
  requested(index: number): void;
  /** A frame is on screen. */
  shown(frame: Frame): void;
  playing(): boolean;
  /** A read failed for another reason than being superseded or aborted. */
  failed(index: number, error: unknown): void;
  disposed(): boolean;
}

export class Navigator {
  store: FrameStore | null = null;
  /** The index on screen (-1: none). */
  displayed = -1;
  /** The index asked for last (-1: none). */
  requested = -1;
  /** The frame on screen. */
  shown: Frame | null = null;
  private ticket = 0;
  private loadingRead: AbortController | null = null;

  constructor(private readonly host: NavigatorHost) {}

  get length(): number {
    return this.store?.length ?? 0;
  }

  /** Nothing asked for or shown (a new room, or an empty one). */
  reset(): void {
    this.displayed = this.requested = -1;
  }

  /** The frame to move from: the one asked for, else the one shown. */
  current(): number {
    return this.requested >= 0 ? this.requested : Math.max(0, this.displayed);
  }

  /** Ask for frame ``index`` (wrapped into the room); ``force`` reads it again. */
  go(index: number, force = false): void {
    const store = this.store;
    if (!store || !store.length) return;
    const length = store.length;
    index = ((Math.round(index) % length) + length) % length;
    if (!force && index === this.requested && index === this.displayed) return;
    this.requested = index;
    const ticket = ++this.ticket;
    this.host.requested(index);
    // Playing joins the chunk read ahead that brings the frame; a jump reads it alone.
    const joinChunk = this.host.playing();
    // A read for an earlier request that will not bring this frame is stale: drop it.
    if (this.loadingRead && !store.loading(index, joinChunk)) this.loadingRead.abort();
    const cached = store.get(index);
    // A jump to a frame at hand is drawn now, as one that arrives is; playback draws on its tick.
    if (cached) this.display(cached, !this.host.playing());
    else {
      const read = store.loading(index, joinChunk) ? undefined : (this.loadingRead = new AbortController());
      store
        .load(index, read?.signal, joinChunk)
        .then((frame) => {
          // A jump's frame is drawn as it arrives (no wait for an animation frame that a busy
          // page may hold back); playback draws what arrived on its own tick.
          if (ticket === this.ticket && store === this.store && !this.host.disposed()) this.display(frame, !this.host.playing());
        })
        .catch((error) => {
          if (ticket !== this.ticket || store !== this.store) return; // superseded
          if ((error as Error).name === "AbortError") return;
          if (error instanceof RangeError && index < store.length) return; // changing: a later event re-reads
          this.host.failed(index, error);
        });
    }
    store.prefetch(index, this.host.playing() ? PREFETCH_PLAYING : PREFETCH_STEPPING);
  }

  private display(frame: Frame, now = false): void {
    if (!this.host.draw(frame)) return;
    this.shown = frame;
    this.displayed = frame.index;
    this.host.shown(frame);
    if (now) this.host.flush();
    this.store?.preload();
  }

  /** The frame on screen was edited and saved as ``frame``. */
  replace(frame: Frame): void {
    this.store?.replace(frame);
    this.shown = frame;
  }

  /** Apply data events to the store: the indices changed (null: all; undefined: no room). */
  apply(events: DataEvent[]): Set<number> | null | undefined {
    return this.store?.apply(events);
  }

  /** Forget every frame read (they must be read again); undefined: no room. */
  clear(): null | undefined {
    if (!this.store) return undefined;
    this.store.clear();
    return null;
  }

  /** After a data change: read the current frame again if it changed (or none is shown). */
  refresh(changed: Set<number> | null): void {
    const at = Math.min(Math.max(this.current(), 0), this.length - 1);
    if (changed === null || changed.has(at) || this.displayed < 0) this.go(at, true);
  }
}
