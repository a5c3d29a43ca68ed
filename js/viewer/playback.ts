// Playback: an animation-frame loop that advances one frame per interval, never ahead of
// the data, never starving the page, and measures the frames/s actually drawn. DOM-free: the
// clock and what a step does are injected (tests drive it with a fake clock).

/** The display clock: ``performance.now`` and ``requestAnimationFrame``. */
export interface Clock {
  now(): number;
  request(callback: (now: number) => void): number;
  cancel(handle: number): void;
}

export const browserClock: Clock = {
  now: () => performance.now(),
  request: (callback) => requestAnimationFrame(callback),
  cancel: (handle) => cancelAnimationFrame(handle),
};

/** What playback drives. */
export interface PlaybackHost {
  /** Frames in the room (0: nothing to play). */
  length(): number;
  /** Draw what is pending now; true if something was drawn. */
  flush(): boolean;
  /** Whether the frame asked for last is on screen. */
  caughtUp(): boolean;
  /** Ask for the next frame (and draw it in this animation frame if it is at hand). */
  advance(): void;
  /** Playback started or stopped (buttons, presenter, kernel). */
  changed(playing: boolean): void;
  /** The measured rate, at most twice a second while playing. */
  showFps(fps: number): void;
}

/** Work longer than this in one go (a long task, as the Long Tasks API counts them) is
 * followed by as long a rest: a draw slower than the frame budget makes playback skip ticks
 * so that the page keeps at least half of the main thread for input and other work. The
 * work is the draw's own time on the main thread, or the wait for the display frame after
 * it (a GPU, or software GL, still busy drawing holds the page's next frame back). */
export const LONG_TASK_MS = 50;

export class Playback {
  playing = false;
  /** The speed asked for, frames/s. */
  fps = 30;
  private handle = 0;
  private lastTick = 0;
  private lastFpsShown = 0;
  private drawTimes: number[] = [];
  /** No advance before this time (resting after a long draw). */
  private restUntil = 0;
  /** The last tick's time, and whether it drew or advanced. */
  private lastFrame = 0;
  private stepped = false;

  constructor(private readonly host: PlaybackHost, private readonly clock: Clock = browserClock) {}

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  play(): void {
    if (this.playing || !this.host.length()) return;
    this.playing = true;
    this.drawTimes = [];
    this.restUntil = 0;
    this.stepped = false;
    this.lastTick = this.clock.now();
    this.host.changed(true);
    this.handle = this.clock.request(this.tick);
  }

  pause(): void {
    if (!this.playing) return;
    this.playing = false;
    this.clock.cancel(this.handle);
    this.host.changed(false);
  }

  /** A frame was drawn (in ``ms`` of main-thread work): counted while playing, over the last
   * second; a long draw is followed by a rest. */
  drawn(ms = 0): void {
    if (!this.playing) return;
    const now = this.clock.now();
    this.drawTimes.push(now);
    while (this.drawTimes.length && now - this.drawTimes[0] > 1000) this.drawTimes.shift();
    this.worked(ms, now);
  }

  /** ``ms`` of work ended at ``end``: rest as long after a long task. */
  private worked(ms: number, end: number): void {
    if (ms > LONG_TASK_MS) this.restUntil = Math.max(this.restUntil, end + ms);
  }

  private tick = (now: number): void => {
    if (!this.playing) return;
    this.handle = this.clock.request(this.tick);
    if (!this.host.length()) return;
    // A display frame held back long after a draw: that draw is still being paid for.
    if (this.stepped) this.worked(now - this.lastFrame, now);
    this.lastFrame = now;
    this.stepped = now >= this.restUntil && this.step(now);
    if (now - this.lastFpsShown > 500) {
      this.lastFpsShown = now;
      this.host.showFps(this.drawTimes.length);
    }
  };

  /** Draw what arrived, or advance when the interval is up (timing the work done); true if
   * it did either. */
  private step(now: number): boolean {
    const interval = 1000 / this.fps;
    const start = this.clock.now();
    if (this.host.flush()) {
      // A frame that has just arrived from the server: show it for a whole interval.
      this.lastTick = now;
    } else if (now - this.lastTick >= interval - 1 && this.host.caughtUp()) {
      // Advance only once the requested frame is on screen: never run ahead of the data.
      this.lastTick = now - Math.min(interval, now - this.lastTick - interval);
      this.host.advance();
    } else return false;
    const end = this.clock.now();
    this.worked(end - start, end);
    return true;
  }
}
