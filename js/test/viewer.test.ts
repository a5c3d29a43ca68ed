// The viewer's DOM-free parts: presenter (with the control client on a fake socket),
// playback (with a fake display clock), presence, keys.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ControlClient } from "../control";
import { commandFor, ownKey } from "../viewer/keys";
import { Clock, Playback } from "../viewer/playback";
import { Presence } from "../viewer/presence";
import { ANNOUNCE_ROUND_TRIPS, Presenter, PRESENTER_IDLE_MS, PRESENTER_TTL } from "../viewer/presenter";
import { FakeSocket } from "./fake-socket";

async function connected(): Promise<{ control: ControlClient; socket: FakeSocket }> {
  FakeSocket.all = [];
  const control = new ControlClient({ url: "ws://h/zndraw/api/ws?session=me", socket: (url) => new FakeSocket(url) });
  const ready = control.connect();
  FakeSocket.all[0].accept("me");
  await ready;
  return { control, socket: FakeSocket.all[0] };
}

function presenterOn(control: ControlClient) {
  const state = { frame: 3, busy: false, readOnly: false, changes: 0 };
  const presenter = new Presenter({
    room: () => "r", frame: () => state.frame, busy: () => state.busy, readOnly: () => state.readOnly, changed: () => state.changes++,
  });
  presenter.attach(control);
  return { presenter, state };
}

const lease = (holder: string) => ({ lease: { room: "r", target: "presenter", holder, expires: 0 } });
const last = (socket: FakeSocket) => socket.sent[socket.sent.length - 1];
const sentTypes = (socket: FakeSocket) => socket.sent.map((m) => m.type);

describe("Presenter", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("takes the token, announces new frames once, renews it, and gives it back when idle", async () => {
    const { control, socket } = await connected();
    const { presenter, state } = presenterOn(control);
    const leading = presenter.lead();
    expect(last(socket)).toMatchObject({ type: "request_presenter_token", room: "r", ttl: PRESENTER_TTL });
    socket.reply(true, lease("me"));
    await leading;
    expect(presenter.presenting).toBe(true);
    expect(last(socket)).toEqual({ type: "set_room_frame", room: "r", frame: 3 });
    await presenter.lead(); // the same frame: not announced again
    state.frame = 4;
    await presenter.lead();
    expect(socket.sent.filter((m) => m.type === "set_room_frame").map((m) => m.frame)).toEqual([3, 4]);
    vi.advanceTimersByTime((PRESENTER_TTL * 1000) / 2.5);
    expect(last(socket)).toMatchObject({ type: "renew_presenter_token", room: "r", ttl: PRESENTER_TTL });
    socket.reply(true, lease("me"));
    vi.advanceTimersByTime(PRESENTER_IDLE_MS);
    expect(last(socket)).toEqual({ type: "release_presenter_token", room: "r" });
    expect(presenter.presenting).toBe(false);
    const sent = socket.sent.length;
    vi.advanceTimersByTime(10 * PRESENTER_TTL * 1000); // released: no more renewals
    expect(socket.sent).toHaveLength(sent);
  });

  it("while playing, spaces announcements by the round trips its own echoes measure", async () => {
    const { control, socket } = await connected();
    const { presenter, state } = presenterOn(control);
    const frames = () => socket.sent.filter((m) => m.type === "set_room_frame").map((m) => m.frame);
    const leading = presenter.lead();
    socket.reply(true, lease("me"));
    await leading;
    // no round trip measured yet: every frame is announced, playing or not
    state.busy = true;
    state.frame = 4;
    presenter.announce();
    expect(frames()).toEqual([3, 4]);
    vi.advanceTimersByTime(40);
    presenter.heard("someone else", 4); // not this viewer's echo
    presenter.heard("me", 4); // the echo of frame 4, 40 ms after it went out
    for (const frame of [5, 6, 7]) {
      state.frame = frame;
      presenter.announce();
    }
    expect(frames()).toEqual([3, 4]); // put off until 4 round trips after the last
    vi.advanceTimersByTime(ANNOUNCE_ROUND_TRIPS * 40 - 40 - 1);
    expect(frames()).toEqual([3, 4]);
    vi.advanceTimersByTime(1);
    expect(frames()).toEqual([3, 4, 7]); // the frame asked for by then, once
    vi.advanceTimersByTime(10 * ANNOUNCE_ROUND_TRIPS * 40);
    expect(frames()).toEqual([3, 4, 7]);
    // a step while not playing is announced at once
    state.busy = false;
    state.frame = 8;
    presenter.announce();
    expect(frames()).toEqual([3, 4, 7, 8]);
    // playback paused with a frame put off: it is announced when due
    state.busy = true;
    state.frame = 9;
    presenter.announce();
    state.busy = false;
    vi.advanceTimersByTime(ANNOUNCE_ROUND_TRIPS * 40);
    expect(frames()).toEqual([3, 4, 7, 8, 9]);
  });

  it("measures each announcement's echo once, and on release announces a frame put off", async () => {
    const { control, socket } = await connected();
    const { presenter, state } = presenterOn(control);
    const frames = () => socket.sent.filter((m) => m.type === "set_room_frame").map((m) => m.frame);
    const leading = presenter.lead();
    socket.reply(true, lease("me"));
    await leading;
    state.busy = true;
    state.frame = 4;
    presenter.announce();
    vi.advanceTimersByTime(40);
    presenter.heard("me", 4); // 40 ms
    vi.advanceTimersByTime(5000);
    presenter.heard("me", 4); // the same echo again (a replay): no measure of the channel
    state.frame = 5;
    presenter.announce();
    expect(frames()).toEqual([3, 4, 5]); // 4 round trips of 40 ms are long past
    state.frame = 6;
    presenter.announce();
    expect(frames()).toEqual([3, 4, 5]); // put off
    presenter.release();
    expect(frames()).toEqual([3, 4, 5, 6]);
    expect(last(socket)).toEqual({ type: "release_presenter_token", room: "r" });
  });

  it("keeps the token while busy (playing or dragging)", async () => {
    const { control, socket } = await connected();
    const { presenter, state } = presenterOn(control);
    state.busy = true;
    const leading = presenter.lead();
    socket.reply(true, lease("me"));
    await leading;
    vi.advanceTimersByTime(3 * PRESENTER_IDLE_MS);
    expect(sentTypes(socket)).not.toContain("release_presenter_token");
    expect(presenter.presenting).toBe(true);
    state.busy = false;
    vi.advanceTimersByTime(PRESENTER_IDLE_MS);
    expect(sentTypes(socket)).toContain("release_presenter_token");
  });

  it("follows another presenter: a refusal names it, and then moves are local only", async () => {
    const { control, socket } = await connected();
    const { presenter } = presenterOn(control);
    const leading = presenter.lead();
    socket.reply(false, { error: "locked", message: "held", holder: "them" });
    await leading;
    expect(presenter.presenting).toBe(false);
    expect(presenter.holder).toBe("them");
    expect(presenter.follows("them")).toBe(true);
    const sent = socket.sent.length;
    await presenter.lead();
    expect(socket.sent).toHaveLength(sent); // someone else leads: not even asked
    presenter.leased(null); // they let go
    expect(presenter.holder).toBeNull();
    const again = presenter.lead();
    expect(last(socket)).toMatchObject({ type: "request_presenter_token" });
    socket.reply(true, lease("me"));
    await again;
    expect(presenter.presenting).toBe(true);
    expect(presenter.follows("them")).toBe(false); // presenting: others' steps do not move it
    presenter.leased("them"); // the token went to them (this viewer's lapsed)
    expect(presenter.presenting).toBe(false);
    expect(presenter.holder).toBe("them");
  });

  it("neither leads nor follows when following is off, and ignores its own steps", async () => {
    const { control, socket } = await connected();
    const { presenter, state } = presenterOn(control);
    presenter.setFollow(false);
    expect(state.changes).toBe(1);
    await presenter.lead();
    expect(socket.sent).toHaveLength(0);
    expect(presenter.follows("them")).toBe(false);
    presenter.setFollow(true);
    expect(presenter.follows("me")).toBe(false);
    presenter.joined([{ room: "r", target: "presenter", holder: "me", expires: 0 }]);
    expect(presenter.holder).toBeNull(); // its own token (from before a reconnect) is not another's
  });

  it("never asks for the token in a read-only room, but still follows", async () => {
    const { control, socket } = await connected();
    const { presenter, state } = presenterOn(control);
    state.readOnly = true;
    await presenter.lead();
    expect(socket.sent).toHaveLength(0);
    expect(presenter.presenting).toBe(false);
    expect(presenter.follows("them")).toBe(true);
  });
});

/** A display clock advanced by hand. */
class FakeClock implements Clock {
  t = 0;
  private callbacks = new Map<number, (now: number) => void>();
  private next = 1;
  now(): number {
    return this.t;
  }
  request(callback: (now: number) => void): number {
    this.callbacks.set(this.next, callback);
    return this.next++;
  }
  cancel(handle: number): void {
    this.callbacks.delete(handle);
  }
  get pending(): number {
    return this.callbacks.size;
  }
  /** One display frame, ``dt`` ms after the last. */
  frame(dt: number): void {
    this.t += dt;
    const due = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const callback of due) callback(this.t);
  }
}

/** A room of ``length`` frames whose reads arrive when ``arrive`` says. */
function playbackOn(clock: FakeClock, length = 100) {
  const state = { displayed: 0, requested: 0, arrived: true, pendingDraw: false, advances: [] as number[], fps: [] as number[], changes: [] as boolean[] };
  const playback: Playback = new Playback(
    {
      length: () => length,
      flush: () => {
        const drew = state.pendingDraw;
        state.pendingDraw = false;
        if (drew) playback.drawn();
        return drew;
      },
      caughtUp: () => state.displayed === state.requested,
      advance: () => {
        state.requested = state.displayed + 1;
        state.advances.push(clock.t);
        if (state.arrived) {
          state.displayed = state.requested;
          playback.drawn();
        }
      },
      changed: (playing) => state.changes.push(playing),
      showFps: (fps) => state.fps.push(fps),
    },
    clock,
  );
  return { playback, state };
}

describe("Playback", () => {
  it("advances one frame per interval of the speed asked for, and reports the rate drawn", () => {
    const clock = new FakeClock();
    const { playback, state } = playbackOn(clock);
    playback.fps = 10;
    playback.play();
    expect(state.changes).toEqual([true]);
    for (let k = 0; k < 102; k++) clock.frame(10); // 1.02 s of a 100 Hz display
    expect(state.advances).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(state.fps).toEqual([5, 10]); // at 0.51 s and 1.02 s
  });

  it("never runs ahead of the data, and shows a late frame for a whole interval", () => {
    const clock = new FakeClock();
    const { playback, state } = playbackOn(clock);
    playback.fps = 10;
    state.arrived = false; // reads are slow
    playback.play();
    for (let k = 0; k < 50; k++) clock.frame(10);
    expect(state.advances).toEqual([100]); // frame 1 asked for, not there yet: no frame 2
    state.displayed = 1; // it arrives and is drawn on the next tick
    state.pendingDraw = true;
    state.arrived = true;
    clock.frame(10); // t = 510: drawn, the interval starts again
    for (let k = 0; k < 9; k++) clock.frame(10);
    expect(state.advances).toEqual([100]);
    clock.frame(10); // t = 610
    expect(state.advances).toEqual([100, 610]);
  });

  it("rests after a draw longer than a long task, as long as the draw took, so the page gets its turn", () => {
    const clock = new FakeClock();
    const draw = { ms: 200 };
    const advances: number[] = [];
    const playback: Playback = new Playback(
      {
        length: () => 100, flush: () => false, caughtUp: () => true, changed: () => undefined, showFps: () => undefined,
        advance: () => {
          advances.push(clock.t);
          clock.t += draw.ms; // the draw keeps the main thread busy while the clock moves on
          playback.drawn(draw.ms);
        },
      },
      clock,
    );
    playback.fps = 60;
    playback.play();
    for (let k = 0; k < 60; k++) clock.frame(17); // 60 display frames, 5 of them 200 ms late
    // each 200 ms draw (217 ms to the next display frame) is followed by as long in which
    // playback does nothing: half the main thread is left to the page (without the rest: an
    // advance every 217 ms)
    expect(advances).toEqual([17, 455, 893, 1331, 1769]);
    // below the long-task threshold nothing rests: a 30 ms draw each display frame
    draw.ms = 30;
    for (let k = 0; k < 15; k++) clock.frame(17); // the last rest ends
    advances.length = 0;
    for (let k = 0; k < 12; k++) clock.frame(17);
    expect(advances).toHaveLength(12);
    // a draw that costs the main thread nothing but holds the next display frame back 300 ms
    // (the GPU still drawing) is paid for alike: 300 ms of rest after that frame
    advances.length = 0;
    draw.ms = 0;
    clock.frame(17);
    const drawnAt = clock.t;
    expect(advances).toEqual([drawnAt]);
    clock.frame(300); // the next display frame, 300 ms late
    for (let k = 0; k < 30; k++) clock.frame(17);
    expect(advances[1]).toBeGreaterThanOrEqual(drawnAt + 600);
    playback.pause();
  });

  it("stops on pause, and does not start without frames", () => {
    const clock = new FakeClock();
    const { playback, state } = playbackOn(clock);
    playback.toggle();
    expect(playback.playing).toBe(true);
    playback.toggle();
    expect(state.changes).toEqual([true, false]);
    expect(clock.pending).toBe(0);
    clock.frame(1000);
    expect(state.advances).toEqual([]);
    const empty = playbackOn(new FakeClock(), 0);
    empty.playback.play();
    expect(empty.playback.playing).toBe(false);
    expect(empty.state.changes).toEqual([]);
  });
});

describe("Presence", () => {
  it("describes the room, the others, the presenter and the locks that concern the user", () => {
    const presence = new Presence();
    presence.joined(
      [{ session: "me", user: "ann" }, { session: "s2", user: "bob" }],
      [{ room: "r", target: "presenter", holder: "s2", expires: 0 }, { room: "r", target: "order", holder: "s2", expires: 0 }],
    );
    presence.leased({ type: "lease", room: "r", seq: 1, target: "frame:f7", holder: "s3" });
    presence.presence({ type: "presence", room: "r", seq: 1, session: "s3", user: "cy", present: true });
    const status = presence.status({ room: "r", self: "me", presenting: false, presenter: "s2", follow: true, frameId: "f7" });
    expect(status.text).toBe("room r · with bob, cy · following bob · frames locked by bob · this frame is being edited by cy");
    expect(status.present).toBe(3);
    expect(status.locked).toEqual(["order", "frame:f7"]);
    presence.leased({ type: "lease", room: "r", seq: 2, target: "order", holder: null });
    expect(presence.status({ room: "r", self: "me", presenting: true, presenter: null, follow: true, frameId: "f1" }).text).toBe("room r · with bob, cy · presenting");
  });

  it("names lease holders by the user the lease carries, else by their session", () => {
    const presence = new Presence();
    presence.joined([{ session: "me", user: "ann" }], [{ room: "r", target: "order", holder: "s4", expires: 0, user: "dee" }]);
    presence.leased({ type: "lease", room: "r", seq: 1, target: "presenter", holder: "s5", user: "eve" });
    presence.leased({ type: "lease", room: "r", seq: 2, target: "frame:f1", holder: "s6" }); // a server without users
    const status = presence.status({ room: "r", self: "me", presenting: false, presenter: "s5", follow: true, frameId: "f1", note: "read-only: ann may give you write access" });
    expect(status.text).toBe("room r · read-only: ann may give you write access · following eve · frames locked by dee · this frame is being edited by s6");
    expect(status.locked).toEqual(["order", "frame:f1"]); // the presenter's lease is not a lock
    presence.presence({ type: "presence", room: "r", seq: 3, session: "s7", present: true });
    expect(presence.status({ room: "r", self: "me", presenting: false, presenter: null, follow: true, frameId: undefined }).text).toBe(
      "room r · with s7 · frames locked by dee",
    );
  });
});

describe("keys", () => {
  const key = (k: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }> = {}) =>
    commandFor({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, ...mods });

  it("maps keys and modifiers to commands", () => {
    expect(key(" ")).toBe("togglePlay");
    expect(key("ArrowRight")).toBe("next");
    expect(key("ArrowRight", { shiftKey: true })).toBe("next10");
    expect(key("ArrowLeft", { shiftKey: true })).toBe("previous10");
    expect(key("Home")).toBe("first");
    expect(key("End")).toBe("last");
    expect(key("Escape")).toBe("clearSelection");
    expect(key("a")).toBeNull();
    expect(key("a", { metaKey: true })).toBe("selectAll");
    expect(key("q")).toBeNull();
  });

  it("leaves a focused control the keys it handles: Space and Enter to a button, all to a field", () => {
    for (const tagName of ["BUTTON", "SUMMARY"]) {
      expect(ownKey({ tagName }, " ")).toBe(true); // presses the button, does not toggle play
      expect(ownKey({ tagName }, "Enter")).toBe(true);
      expect(ownKey({ tagName }, "ArrowRight")).toBe(false);
      expect(ownKey({ tagName }, "Home")).toBe(false);
    }
    for (const tagName of ["INPUT", "SELECT", "TEXTAREA"]) {
      for (const k of [" ", "ArrowLeft", "Home", "f", "Escape"]) expect(ownKey({ tagName }, k)).toBe(true);
    }
    for (const target of [{ tagName: "DIV" }, { tagName: "CANVAS" }, null]) expect(ownKey(target, " ")).toBe(false);
    const slider = { tagName: "INPUT", type: "range" }; // the frame slider: Space still plays
    expect(ownKey(slider, " ")).toBe(false);
    for (const k of ["ArrowLeft", "Home", "End"]) expect(ownKey(slider, k)).toBe(true);
  });
});
