// The presenter token: a viewer that moves (or plays) while following takes the room's
// presenter token, announces its frame to the room, renews the token while it keeps moving
// and gives it back when idle; another session's token makes this viewer follow it.
// DOM-free: the control client and the viewer's state are injected (tests: js/test/).
import { ControlClient, ControlError } from "../control";
import type { Lease } from "../protocol";
import { PRESENTER } from "../protocol";

export const PRESENTER_TTL = 5; // s
export const PRESENTER_IDLE_MS = 2500;
/** While busy (playing), announcements are at least this many round trips of the control
 * channel apart, measured from the room's echo of this viewer's own announcements: the
 * channel spends at most about a quarter of its time on them. Over the websocket (a round
 * trip of a few ms) playback still announces every frame; over the kernel's comm, where
 * each message costs the Jupyter server and the kernel a few ms of CPU, it no longer pays
 * that per frame. */
export const ANNOUNCE_ROUND_TRIPS = 4;
/** A round trip sample counts at most this (ms): a stall must not hold announcements back for long. */
export const MAX_ROUND_TRIP_MS = 1000;

/** The part of the control client the presenter uses. */
export type PresenterChannel = Pick<ControlClient, "status" | "session" | "takePresenter" | "renewPresenter" | "releasePresenter" | "setRoomFrame">;

/** What the presenter reads from the viewer and tells it. */
export interface PresenterHost {
  room(): string;
  /** The frame asked for last (-1: none). */
  frame(): number;
  /** Playing or editing: the token is kept while busy. */
  busy(): boolean;
  /** The user may only read the room: it follows, never leads. */
  readOnly(): boolean;
  /** Who presents (or whether this viewer follows) changed. */
  changed(): void;
}

export class Presenter {
  /** Another session holding the presenter token (null: none, or this viewer). */
  holder: string | null = null;
  /** This viewer holds the token. */
  presenting = false;
  /** Follow the room's presenter (and lead it when moving). */
  follow = true;
  private control: PresenterChannel | null = null;
  private announced = -1; // the last frame told to the room
  private announcedAt = 0; // when (Date.now())
  private echoed = true; // its echo came back (measured) or none is awaited
  private roundTrip = 0; // ms, a moving average (0: not measured yet)
  private later: ReturnType<typeof setTimeout> | null = null; // an announcement put off
  private idle: ReturnType<typeof setTimeout> | null = null;
  private renew: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly host: PresenterHost) {}

  /** The control client to lead through (once connected). */
  attach(control: PresenterChannel): void {
    this.control = control;
    this.roundTrip = 0; // another channel: measured again
  }

  setFollow(follow: boolean): void {
    this.follow = follow;
    this.host.changed();
  }

  /** Take (or keep) the presenter token and announce the current frame. */
  async lead(): Promise<void> {
    const control = this.control;
    const room = this.host.room();
    if (!this.follow || !control || control.status !== "open" || !room || this.host.readOnly()) return;
    this.releaseLater();
    if (!this.presenting) {
      if (this.holder) return; // someone else leads: navigate locally only
      try {
        await control.takePresenter(room, PRESENTER_TTL);
      } catch (error) {
        if (error instanceof ControlError && error.code === "locked") {
          this.holder = String(error.details.holder ?? "someone");
          this.host.changed();
        }
        return;
      }
      this.presenting = true;
      this.holder = null;
      this.host.changed();
      this.renew = setInterval(() => {
        control.renewPresenter(this.host.room(), PRESENTER_TTL).catch(() => this.stop());
      }, (PRESENTER_TTL * 1000) / 2.5);
    }
    this.announce();
  }

  /** Tell the room the frame asked for, if this viewer presents and it is new; while busy,
   * not sooner than ``ANNOUNCE_ROUND_TRIPS`` round trips after the last (then the frame
   * asked for by that time). */
  announce(): void {
    if (!this.presenting || !this.control) return;
    const frame = this.host.frame();
    if (frame < 0 || frame === this.announced) return;
    const wait = this.host.busy() ? this.announcedAt + ANNOUNCE_ROUND_TRIPS * this.roundTrip - Date.now() : 0;
    if (wait > 0) {
      this.later ??= setTimeout(() => {
        this.later = null;
        this.announce();
      }, wait);
      return;
    }
    this.send();
  }

  /** Tell the room the frame asked for now (a put-off announcement with it). */
  private send(): void {
    if (this.later) clearTimeout(this.later);
    this.later = null;
    const frame = this.host.frame();
    if (frame < 0 || frame === this.announced || !this.control) return;
    this.announced = frame;
    this.announcedAt = Date.now();
    this.echoed = false;
    this.control.setRoomFrame(this.host.room(), frame);
  }

  /** The room's step event from ``holder``: this viewer's own last announcement coming back
   * (the first time only: a replayed event is no measure) gives the control channel's round
   * trip, a sample counted at most ``MAX_ROUND_TRIP_MS``. */
  heard(holder: string | null, step: number): void {
    if (holder !== this.control?.session || step !== this.announced || this.echoed) return;
    this.echoed = true;
    const sample = Math.min(Date.now() - this.announcedAt, MAX_ROUND_TRIP_MS);
    this.roundTrip = this.roundTrip ? 0.75 * this.roundTrip + 0.25 * sample : sample;
  }

  /** Give the token back after a pause in moving (kept while busy). */
  releaseLater(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.host.busy()) return this.releaseLater();
      this.release();
    }, PRESENTER_IDLE_MS);
  }

  /** Give the token back now (leaving the room, or idle). */
  release(): void {
    if (this.presenting) {
      if (this.later) this.send(); // the room keeps the frame this viewer stopped on
      this.control?.releasePresenter(this.host.room());
    }
    this.stop();
  }

  /** This viewer no longer presents (released, lost or refused). */
  stop(): void {
    this.presenting = false;
    this.announced = -1;
    if (this.later) clearTimeout(this.later);
    this.later = null;
    if (this.renew) clearInterval(this.renew);
    this.renew = null;
    this.host.changed();
  }

  /** The presenter of a room just (re)joined, from its leases. */
  joined(leases: Lease[]): void {
    const holder = leases.find((l) => l.target === PRESENTER)?.holder ?? null;
    this.holder = holder === this.control?.session ? null : holder;
  }

  /** A presenter lease event: another session took the token, or it was released. */
  leased(holder: string | null): void {
    const mine = holder === this.control?.session;
    this.holder = mine ? null : holder;
    if (!mine && this.presenting) this.stop();
    this.host.changed();
  }

  /** Whether a step made by ``holder`` should move this viewer. */
  follows(holder: string | null): boolean {
    return holder !== this.control?.session && this.follow && !this.presenting;
  }

  dispose(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    this.release();
  }
}
