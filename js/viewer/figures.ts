// Figures for the kernel: a screenshot at any size, and the frames of a movie one by one.
// The kernel asks on the widget comm; each PNG goes to the server's figure mailbox (PUT
// figures/<id>), where the kernel (zndraw_widget/figures.py) waits for it: a busy kernel
// reads no comm messages, but it can read HTTP. Several views of one widget may answer:
// the first figure wins, a view whose figure comes second (409) stops, and the kernel names
// the view it takes in its acknowledgements, so that the others stop.
import { ApiError, type DataClient } from "../data";
import type { Renderer } from "../renderer";
import type { FrameStore } from "../store";
import type { Model } from "./model";

export interface FiguresHost {
  model: Model;
  renderer(): Renderer | null;
  data(): DataClient | null;
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
  id: string;
  width?: number | null;
  height?: number | null;
  transparent?: boolean;
}

interface MovieRequest {
  type: "movie";
  id: string;
  frames: number[];
  width?: number | null;
  height?: number | null;
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
  private jobs = new Map<string, MovieJob>();

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

  /** The size asked for, else the canvas' (``even``: rounded down to even, for videos). */
  private size(width?: number | null, height?: number | null, even = false): [number, number] {
    const canvas = this.host.renderer()!.canvas;
    const round = (n: number) => (even ? Math.max(2, Math.floor(n / 2) * 2) : Math.max(1, n));
    return [width ?? round(canvas.clientWidth), height ?? round(canvas.clientHeight)];
  }

  /** Hand figure ``id`` (a PNG, or what went wrong) to the kernel; false if another view's
   * came first. */
  private async put(id: string, figure: Blob | Error): Promise<boolean> {
    const data = this.host.data();
    if (!data) return false;
    try {
      if (figure instanceof Blob) await data.request("PUT", `figures/${id}`, figure, { "Content-Type": "image/png" });
      else await data.json("PUT", `figures/${id}`, { error: figure.message || String(figure) });
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return false;
      throw error;
    }
  }

  private async screenshot(request: ScreenshotRequest): Promise<void> {
    const renderer = this.host.renderer();
    let figure: Blob | Error;
    try {
      if (!renderer) throw new Error("the view cannot draw (no WebGL)");
      figure = await renderer.capture(...this.size(request.width, request.height), !!request.transparent);
    } catch (error) {
      figure = error as Error;
    }
    await this.put(request.id, figure).catch((error) => console.error("zndraw: a screenshot was not delivered", error));
  }

  private async movie(request: MovieRequest): Promise<void> {
    const renderer = this.host.renderer(), store = this.host.store();
    if (!renderer || !store) return void this.put(`${request.id}-0`, new Error("the view shows no room")).catch(() => undefined);
    const job: MovieJob = { acked: 0, stopped: false, wake: null };
    this.jobs.set(request.id, job);
    const [width, height] = this.size(request.width, request.height, true);
    const total = request.frames.length;
    try {
      for (let k = 0; k < total && !job.stopped; k++) {
        while (k - job.acked >= request.window && !job.stopped) await new Promise<void>((wake) => (job.wake = wake));
        if (job.stopped) break;
        let figure: Blob | Error;
        try {
          renderer.setFrame(await store.load(request.frames[k]));
          figure = await renderer.capture(width, height, false, true); // the view shows them too
        } catch (error) {
          figure = error as Error;
          job.stopped = true;
        }
        if (!(await this.put(`${request.id}-${k}`, figure))) break; // another view records it
        this.host.progress(`Recording a movie: frame ${k + 1} of ${total}`);
      }
    } catch (error) {
      console.error("zndraw: a movie frame was not delivered", error);
    } finally {
      this.jobs.delete(request.id);
      renderer.resize();
      this.host.restore();
      this.host.progress(null);
    }
  }

  private ack(id: string, received: number, view: string): void {
    const job = this.jobs.get(id);
    if (!job) return;
    if (view !== this.host.view) return this.stop(id); // another view records this movie
    job.acked = received;
    job.wake?.();
  }

  private stop(id: string): void {
    const job = this.jobs.get(id);
    if (!job) return;
    job.stopped = true;
    job.wake?.();
  }
}
