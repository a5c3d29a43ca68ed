// Figures for the kernel: a screenshot at any size, and the frames of a movie one by one,
// each a PNG sent back on the widget comm (the kernel, zndraw_widget/figures.py, waits for
// them and assembles the video). Several views of one widget may answer: the kernel takes
// the first and names it in its acknowledgements, and the others stop.
import type { Renderer } from "../renderer";
import type { FrameStore } from "../store";
import type { Model } from "./model";

export interface FiguresHost {
  model: Model;
  renderer(): Renderer | null;
  store(): FrameStore | null;
  /** This view's session id (names it to the kernel). */
  view: string;
  /** Put back the frame the view was showing. */
  restore(): void;
  /** Show progress (null: done). */
  progress(text: string | null): void;
}

interface ScreenshotRequest {
  type: "screenshot";
  id: number;
  width?: number;
  height?: number;
  transparent?: boolean;
}

interface MovieRequest {
  type: "movie";
  id: number;
  frames: number[];
  width?: number;
  height?: number;
  /** Frames sent ahead of the kernel's acknowledgements. */
  window: number;
}

interface MovieJob {
  acked: number;
  stopped: boolean;
  wake: (() => void) | null;
}

/** The kernel's own message types (others on the comm are not for this part). */
const TYPES = new Set(["screenshot", "movie", "movie-ack", "movie-cancel", "movie-done"]);

export class Figures {
  private jobs = new Map<number, MovieJob>();

  constructor(private readonly host: FiguresHost) {}

  /** Whether a movie can be asked of the kernel (a widget, not the full page). */
  get canRecord(): boolean {
    return !!this.host.model.send;
  }

  /** A message from the kernel; false if it is not one of this part's. */
  receive(message: any): boolean {
    if (!message || !TYPES.has(message.type)) return false;
    if (message.type === "screenshot") void this.screenshot(message as ScreenshotRequest);
    else if (message.type === "movie") void this.movie(message as MovieRequest);
    else if (message.type === "movie-ack") this.ack(message.id, message.received, message.view);
    else if (message.type === "movie-cancel") this.stop(message.id);
    else if (message.type === "movie-done") this.host.progress(message.text ?? null);
    return true;
  }

  /** Ask the kernel for a movie of the whole room at the canvas' size (the toolbar button). */
  requestMovie(): void {
    const renderer = this.host.renderer();
    if (!renderer || !this.host.model.send) return;
    const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);
    this.host.model.send({ type: "movie-request", width: even(renderer.canvas.clientWidth), height: even(renderer.canvas.clientHeight) });
    this.host.progress("Asking the kernel to record a movie…");
  }

  private size(width?: number, height?: number): [number, number] {
    const canvas = this.host.renderer()!.canvas;
    return [width ?? Math.max(1, canvas.clientWidth), height ?? Math.max(1, canvas.clientHeight)];
  }

  private send(content: Record<string, unknown>, buffer?: ArrayBuffer): void {
    const send = this.host.model.send as ((content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]) => void) | undefined;
    send?.call(this.host.model, { ...content, view: this.host.view }, undefined, buffer ? [buffer] : []);
  }

  private async screenshot(request: ScreenshotRequest): Promise<void> {
    const renderer = this.host.renderer();
    if (!renderer) return this.send({ type: "figure-error", id: request.id, error: "the view cannot draw (no WebGL)" });
    try {
      const blob = await renderer.capture(...this.size(request.width, request.height), !!request.transparent);
      this.send({ type: "screenshot", id: request.id }, await blob.arrayBuffer());
    } catch (error) {
      this.send({ type: "figure-error", id: request.id, error: (error as Error).message });
    }
  }

  private async movie(request: MovieRequest): Promise<void> {
    const renderer = this.host.renderer(), store = this.host.store();
    if (!renderer || !store) return this.send({ type: "figure-error", id: request.id, error: "the view shows no room" });
    const job: MovieJob = { acked: 0, stopped: false, wake: null };
    this.jobs.set(request.id, job);
    const [width, height] = this.size(request.width, request.height);
    const total = request.frames.length;
    try {
      for (let k = 0; k < total && !job.stopped; k++) {
        while (k - job.acked >= request.window && !job.stopped) await new Promise<void>((wake) => (job.wake = wake));
        if (job.stopped) break;
        const frame = await store.load(request.frames[k]);
        renderer.setFrame(frame);
        const blob = await renderer.capture(width, height, false);
        this.send({ type: "movie-frame", id: request.id, index: k, frame: request.frames[k] }, await blob.arrayBuffer());
        this.host.progress(`Recording a movie: frame ${k + 1} of ${total}`);
      }
    } catch (error) {
      this.send({ type: "figure-error", id: request.id, error: (error as Error).message });
    } finally {
      this.jobs.delete(request.id);
      this.host.restore();
      this.host.progress(null);
    }
  }

  private ack(id: number, received: number, view: string): void {
    const job = this.jobs.get(id);
    if (!job) return;
    if (view !== this.host.view) return this.stop(id); // another view records this movie
    job.acked = received;
    job.wake?.();
  }

  private stop(id: number): void {
    const job = this.jobs.get(id);
    if (!job) return;
    job.stopped = true;
    job.wake?.();
  }
}
