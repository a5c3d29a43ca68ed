// Playback: an animation-frame loop that advances one frame per interval, never ahead of
// the data, and measures the frames/s actually drawn. DOM-free: the clock and what a step
// does are injected (tests drive it with a fake clock).

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

export class Playback {
  playing = false;
  /** The speed asked for, frames/s. */
  fps = 30;
  private handle = 0;
  private lastTick = 0;
  private lastFpsShown = 0;
  private drawTimes: number[] = [];

  constructor(private readonly host: PlaybackHost, private readonly clock: Clock = browserClock) {}

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  play(): void {
    if (this.playing || !this.host.length()) return;
    this.playing = true;
    this.drawTimes = [];
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

  /** A frame was drawn: counted while playing, over the last second. */
  drawn(): void {
    if (!this.playing) return;
    const now = this.clock.now();
    this.drawTimes.push(now);
    while (this.drawTimes.length && now - this.drawTimes[0] > 1000) this.drawTimes.shift();
  }

  private tick = (now: number): void => {
    if (!this.playing) return;
    this.handle = this.clock.request(this.tick);
    if (!this.host.length()) return;
    const interval = 1000 / this.fps;
    // A frame that has just arrived from the server: show it for a whole interval.
    if (this.host.flush()) {
      this.lastTick = now;
      return;
    }
    // Advance only once the requested frame is on screen: never run ahead of the data.
    if (now - this.lastTick >= interval - 1 && this.host.caughtUp()) {
      this.lastTick = now - Math.min(interval, now - this.lastTick - interval);
      this.host.advance();
    }
    if (now - this.lastFpsShown > 500) {
      this.lastFpsShown = now;
      this.host.showFps(this.drawTimes.length);
    }
  };
}
