// The anywidget front end: one Viewer per displayed widget view.
import type { Vector3 } from "three";
import { ApiError, DataClient, RoomInfo, xsrfFromCookie } from "./data";
import { ControlClient, ControlError, Message } from "./control";
import { apiUrlOf, newSessionId, websocketUrl } from "./env";
import type { Frame } from "./frames";
import { Renderer } from "./renderer";
import { FrameStore } from "./store";
import { CSS } from "./style";
import { RoomEvent, RoomSync } from "./sync";

export interface Model {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  /** A custom message to the kernel (anywidget's models have it; a page's model may not). */
  send?(content: unknown): void;
}

const PRESENTER_TTL = 5;
const PRESENTER_IDLE_MS = 2500;
const PREFETCH_AHEAD = 24;

// Inline SVG icons (no icon fonts or emoji: they are missing on many machines).
const ICONS: Record<string, string> = {
  first: "M6 5h2v14H6zM20 5v14L9 12z",
  prev: "M18 5v14L7 12z",
  play: "M7 5v14l12-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  next: "M6 5v14l11-7z",
  last: "M16 5h2v14h-2zM4 5v14l11-7z",
  fit: "M4 4h6v2H6v4H4zM14 4h6v6h-2V6h-4zM4 14h2v4h4v2H4zM18 14h2v6h-6v-2h4z",
  camera: "M9 4 7.5 6H4a1 1 0 0 0-1 1v11a1 1 0 0 0 1 1h16a1 1 0 0 0 1-1V7a1 1 0 0 0-1-1h-3.5L15 4zm3 4a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z",
};

export function icon(name: string): string {
  return `<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="${ICONS[name]}"/></svg>`;
}

function button(label: string, title: string): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  if (ICONS[label]) b.innerHTML = icon(label);
  else b.textContent = label;
  b.title = title;
  b.setAttribute("aria-label", title);
  return b;
}

export class Viewer {
  readonly root = document.createElement("div");
  private view = document.createElement("div");
  private message = document.createElement("div");
  private banner = document.createElement("div");
  private status = document.createElement("div");
  private slider = document.createElement("input");
  private counter = document.createElement("span");
  private fpsLabel = document.createElement("span");
  private fpsSelect = document.createElement("select");
  private playButton = button("play", "Play / pause (space)");
  private presentButton = button("Follow", "Follow the room's presenter");
  private renderer: Renderer | null = null;
  private data!: DataClient;
  private control!: ControlClient;
  private session = newSessionId();
  private room = "";
  private store: FrameStore | null = null;
  private sync: RoomSync | null = null;
  private displayed = -1;
  private ticket = 0;
  private requested = -1;
  private shownFrame: Frame | null = null;
  private playing = false;
  private fps = 30;
  private lastTick = 0;
  private playTimer = 0;
  private frameTimes: number[] = [];
  private presenter: string | null = null;
  /** Sessions present in the room (session -> user) and leases other than the presenter's
   * (target -> holding session), from the join reply and then from events. */
  private people = new Map<string, string>();
  private locks = new Map<string, string>();
  private presenting = false;
  private presenterIdle: ReturnType<typeof setTimeout> | null = null;
  private presenterRenew: ReturnType<typeof setInterval> | null = null;
  private follow = true;
  private stepSent = -1;
  private stepTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private openToken = 0;
  private loadingRead: AbortController | null = null;
  private lastFpsShown = 0;
  private announced = -1; // the last frame told to the room as presenter
  private drag: { start: Vector3; atoms: number[]; original: Float32Array; moved: boolean } | null = null;
  private pointerDown: { x: number; y: number } | null = null;
  private themeObserver: MutationObserver | null = null;
  private bannerTimer: ReturnType<typeof setTimeout> | null = null;
  private listeners: Array<[string, (...args: any[]) => void]> = [];
  draws = 0;
  private readonly created = performance.now();

  constructor(private readonly model: Model, el: HTMLElement) {
    this.buildDom(el);
  }

  /** The token of a standalone server (``api_url`` set): from the page's model when it has
   * one (full page), else asked of the kernel, so that it is never saved in the notebook. */
  private async credentials(): Promise<string | undefined> {
    const given = String(this.model.get("token") ?? "");
    if (given || !this.model.get("api_url") || !this.model.send) return given || undefined;
    this.setMessage("Waiting for the kernel to pass the server's token…");
    return new Promise((resolve) => {
      const answer = (content: { type?: string; token?: string }) => {
        if (content?.type !== "credentials") return;
        this.model.off("msg:custom", answer);
        resolve(content.token || undefined);
      };
      this.listen("msg:custom", answer);
      this.model.send!({ type: "credentials" });
    });
  }

  private connect(token: string | undefined): void {
    const explicit = String(this.model.get("api_url") ?? "");
    const apiUrl = apiUrlOf(explicit);
    this.data = new DataClient({ apiUrl, session: this.session, auth: { token, xsrf: () => xsrfFromCookie() } });
    this.control = new ControlClient({
      url: websocketUrl(apiUrl, this.session, explicit ? token : undefined),
      onEvent: (event) => this.onEvent(event),
      onStatus: (status, detail) => this.onControlStatus(status, detail),
      onJoined: (room, reply, reconnected) => {
        if (reconnected && room === this.room) this.onRejoined(reply);
      },
      onJoinError: (room, error) => {
        if (room === this.room) this.fail(error.code, `cannot rejoin room "${room}": ${error.message}`);
      },
    });
  }

  // -- DOM ------------------------------------------------------------------------------
  private buildDom(el: HTMLElement): void {
    const style = document.createElement("style");
    style.textContent = CSS;
    this.root.className = "zn-root";
    this.root.tabIndex = 0;
    this.root.dataset.zndrawStatus = "loading";
    const height = Number(this.model.get("height") ?? 0);
    if (height > 0) this.root.style.setProperty("--zn-height", `${height}px`);
    this.view.className = "zn-view";
    this.message.className = "zn-message";
    this.banner.className = "zn-banner";
    this.status.className = "zn-status";
    this.view.append(this.status, this.message, this.banner);

    const bar = document.createElement("div");
    bar.className = "zn-bar";
    const first = button("first", "First frame (Home)");
    const back = button("prev", "Previous frame (←)");
    const forward = button("next", "Next frame (→)");
    const last = button("last", "Last frame (End)");
    const fit = button("fit", "Fit the view (f)");
    const shot = button("camera", "Save a screenshot (s)");
    shot.dataset.role = "screenshot";
    this.slider.type = "range";
    this.slider.min = "0";
    this.slider.max = "0";
    this.slider.value = "0";
    this.slider.setAttribute("aria-label", "Frame");
    this.counter.className = "zn-counter";
    this.counter.textContent = "– / –";
    this.fpsLabel.className = "zn-fps";
    for (const value of [1, 5, 10, 15, 30, 60]) {
      const option = document.createElement("option");
      option.value = String(value);
      option.textContent = `${value} fps`;
      if (value === this.fps) option.selected = true;
      this.fpsSelect.append(option);
    }
    this.fpsSelect.title = "Playback speed";
    this.playButton.dataset.role = "play";
    this.slider.dataset.role = "slider";
    this.counter.dataset.role = "counter";
    this.presentButton.dataset.role = "follow";
    this.presentButton.setAttribute("aria-pressed", "true");
    bar.append(first, back, this.playButton, forward, last, this.slider, this.counter, this.fpsSelect, this.fpsLabel, this.presentButton, fit, shot);
    this.root.append(style, this.view, bar);
    el.append(this.root);

    first.onclick = () => this.userGo(0);
    back.onclick = () => this.userGo(this.current() - 1);
    forward.onclick = () => this.userGo(this.current() + 1);
    last.onclick = () => this.userGo((this.store?.length ?? 1) - 1);
    this.playButton.onclick = () => this.togglePlay();
    this.slider.oninput = () => this.userGo(Number(this.slider.value));
    this.fpsSelect.onchange = () => (this.fps = Number(this.fpsSelect.value));
    this.presentButton.onclick = () => this.setFollow(!this.follow);
    fit.onclick = () => this.renderer?.fit();
    shot.onclick = () => this.downloadScreenshot();
    this.root.addEventListener("keydown", (e) => this.onKey(e));
  }

  private current(): number {
    return this.requested >= 0 ? this.requested : Math.max(0, this.displayed);
  }

  private setMessage(text: string | null, error = false): void {
    this.message.textContent = text ?? "";
    this.message.classList.toggle("zn-show", !!text);
    this.message.classList.toggle("zn-error", error);
  }

  private setBanner(text: string | null, timeout = 0): void {
    if (this.bannerTimer) clearTimeout(this.bannerTimer);
    this.bannerTimer = null;
    this.banner.textContent = text ?? "";
    this.banner.classList.toggle("zn-show", !!text);
    if (text && timeout) this.bannerTimer = setTimeout(() => this.setBanner(null), timeout);
  }

  /** A fatal problem: a clear message in place of the view. */
  private fail(code: string, text: string): void {
    this.pause();
    this.root.dataset.zndrawStatus = "error";
    this.root.dataset.zndrawError = code;
    this.setMessage(text, true);
  }

  /** Who holds a session: "you", the user present with it, else "someone". */
  private who(session: string): string {
    if (session === this.control?.session) return "you";
    return this.people.get(session) ?? "someone";
  }

  private updateStatus(): void {
    const parts = [`room ${this.room}`];
    const others = [...this.people].filter(([session]) => session !== this.control?.session).map(([, user]) => user);
    if (others.length) parts.push(others.length <= 3 ? `with ${[...new Set(others)].join(", ")}` : `with ${others.length} others`);
    if (this.presenting) parts.push("presenting");
    else if (this.presenter && this.follow) parts.push(`following ${this.who(this.presenter)}`);
    const locked = [...this.locks].filter(([, holder]) => holder !== this.control?.session);
    for (const [target, holder] of locked) {
      if (target === "order") parts.push(`frames locked by ${this.who(holder)}`);
      else if (this.shownFrame && target === `frame:${this.shownFrame.id}`) parts.push(`this frame is being edited by ${this.who(holder)}`);
    }
    this.status.textContent = parts.join(" · ");
    this.root.dataset.zndrawPresent = String(this.people.size);
    this.root.dataset.zndrawLocked = locked.map(([target]) => target).join(",");
  }

  private updateCounter(): void {
    const length = this.store?.length ?? 0;
    const shown = this.displayed >= 0 ? this.displayed : "–";
    let text = `${shown} / ${Math.max(0, length - 1)}`;
    if (this.requested >= 0 && this.requested !== this.displayed) text += ` (→${this.requested})`;
    this.counter.textContent = text;
    this.root.dataset.zndrawLength = String(length);
    this.root.dataset.zndrawRequested = String(this.requested);
  }

  // -- lifetime -------------------------------------------------------------------------
  async start(): Promise<void> {
    try {
      this.renderer = new Renderer(this.view);
    } catch (error) {
      this.fail("webgl", `cannot draw: WebGL is not available in this browser (${(error as Error).message})`);
      return;
    }
    this.view.insertBefore(this.renderer.canvas, this.status);
    this.renderer.onRendered = () => this.onRendered();
    this.applyTheme();
    this.themeObserver = new MutationObserver(() => this.applyTheme());
    this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
    this.bindPointer();
    this.listen("change:room", () => void this.openRoom(String(this.model.get("room"))));
    this.listen("change:step", () => {
      const step = Number(this.model.get("step"));
      if (step !== this.stepSent && step !== this.requested) this.go(step);
    });
    this.listen("change:selection", () => this.renderer?.setSelection(this.model.get("selection") ?? []));
    this.renderer.setSelection(this.model.get("selection") ?? []);
    const token = await this.credentials();
    if (this.disposed) return;
    this.connect(token);
    await this.openRoom(String(this.model.get("room") ?? ""));
  }

  private listen(event: string, callback: (...args: any[]) => void): void {
    this.model.on(event, callback);
    this.listeners.push([event, callback]);
  }

  dispose(): void {
    this.disposed = true;
    this.pause();
    for (const [event, callback] of this.listeners) this.model.off(event, callback);
    if (this.presenting) this.control.notify({ type: "release_presenter_token", room: this.room });
    this.stopPresenting();
    this.control?.close();
    this.themeObserver?.disconnect();
    this.renderer?.dispose();
    this.root.remove();
  }

  private applyTheme(): void {
    const color = getComputedStyle(this.view).getPropertyValue("--jp-layout-color0").trim() || getComputedStyle(this.view).backgroundColor;
    this.renderer?.setBackground(color && color !== "rgba(0, 0, 0, 0)" ? color : "#ffffff");
  }

  // -- rooms ----------------------------------------------------------------------------
  async openRoom(room: string): Promise<void> {
    const token = ++this.openToken;
    this.pause();
    if (this.room && this.room !== room) {
      if (this.presenting) this.control.notify({ type: "release_presenter_token", room: this.room });
      this.stopPresenting();
      void this.control.leave(this.room);
    }
    this.room = room;
    this.root.dataset.zndrawRoom = room;
    this.root.dataset.zndrawStatus = "loading";
    delete this.root.dataset.zndrawError;
    delete this.root.dataset.zndrawRendered;
    this.displayed = this.requested = -1;
    this.presenter = null;
    this.people.clear();
    this.locks.clear();
    this.updateStatus();
    if (!room) {
      this.fail("no_room", "No room: create the viewer with Viewer(room=\"name\") or Viewer(frames).");
      return;
    }
    this.setMessage(`Loading room "${room}"…`);
    let info: RoomInfo;
    try {
      info = await this.data.roomInfo(room);
    } catch (error) {
      if (token === this.openToken) this.failFrom(error, room);
      return;
    }
    if (token !== this.openToken) return;
    this.store = new FrameStore(this.data, room);
    this.store.length = info.length;
    this.sync = new RoomSync(info.seq, (since) => this.data.events(room, since), {
      onData: (events) => this.onData(events),
      onReload: () => this.onData([{ type: "frames_inserted", length: this.store?.length }]),
      onOther: (event) => this.onOtherEvent(event),
      onError: (error) => this.setBanner(`could not resynchronise: ${error.message}`),
    });
    this.updateLength();
    void this.joinControl(room, token);
    // Start where the kernel asked, unless someone is presenting: then where they are.
    let start = Number(this.model.get("step") ?? 0);
    const presenting = (info.leases as Array<{ target: string }> | undefined)?.some((l) => l.target === "presenter");
    if (presenting && typeof info.step === "number" && info.step >= 0 && this.follow) start = info.step;
    if (!info.length) {
      this.root.dataset.zndrawStatus = "empty";
      this.setMessage(`Room "${room}" has no frames yet: append some from Python (room.append(atoms)).`);
      return;
    }
    this.setMessage(null);
    this.go(Math.min(Math.max(0, start), info.length - 1));
  }

  private async joinControl(room: string, token: number): Promise<void> {
    try {
      if (this.control.status !== "open") await this.control.connect();
      if (token !== this.openToken) return;
      const reply = await this.control.join(room);
      if (token !== this.openToken) return;
      this.onRejoined(reply);
    } catch (error) {
      if (token !== this.openToken) return;
      this.setBanner(`live updates unavailable: ${(error as Error).message}. Retrying…`);
    }
  }

  private onRejoined(reply: Message): void {
    const info = reply.room as RoomInfo | undefined;
    const leases = (reply.leases as Array<{ target: string; holder: string }>) ?? [];
    const present = (reply.presence as Array<{ session: string; user: string }>) ?? [];
    this.people = new Map(present.map((p) => [p.session, p.user]));
    this.locks = new Map(leases.filter((l) => l.target !== "presenter").map((l) => [l.target, l.holder]));
    this.presenter = leases.find((l) => l.target === "presenter")?.holder ?? null;
    if (this.presenter === this.control.session) this.presenter = null;
    this.updateStatus();
    void this.sync?.resync();
    if (info && typeof info.step === "number" && this.presenter && this.follow && !this.presenting) this.go(info.step);
  }

  private failFrom(error: unknown, room: string): void {
    if (error instanceof ApiError) {
      if (error.code === "not_found") this.fail("not_found", `Room "${room}" does not exist. ${error.message}`);
      else if (error.status === 403 || error.status === 401) this.fail("forbidden", `Access denied (${error.status}): ${error.message}`);
      else if (error.code === "extension_missing") this.fail("extension_missing", error.message);
      else this.fail(error.code, error.message);
    } else {
      this.fail("error", String((error as Error)?.message ?? error));
    }
  }

  private updateLength(): void {
    const length = this.store?.length ?? 0;
    this.slider.max = String(Math.max(0, length - 1));
    this.updateCounter();
  }

  // -- events ---------------------------------------------------------------------------
  private onEvent(event: Message): void {
    if (event.type === "error") {
      if (event.error === "locked" && this.presenting) this.stopPresenting();
      return;
    }
    if (event.room !== this.room) return;
    this.sync?.handle(event as RoomEvent);
  }

  private onControlStatus(status: string, detail?: string): void {
    if (this.disposed) return;
    this.root.dataset.zndrawControl = status;
    if (status === "reconnecting") this.setBanner(`connection to the server lost (${detail ?? ""}): reconnecting…`);
    else if (status === "open") this.setBanner(null);
  }

  private onData(events: RoomEvent[]): void {
    const store = this.store;
    if (!store) return;
    const changed = store.apply(events);
    this.updateLength();
    if (!store.length) {
      this.pause();
      this.displayed = this.requested = -1;
      this.setMessage(`Room "${this.room}" has no frames.`);
      this.updateCounter();
      return;
    }
    this.setMessage(null);
    const at = Math.min(Math.max(this.current(), 0), store.length - 1);
    if (changed === null || changed.has(at) || this.displayed < 0) this.go(at, true);
  }

  private onOtherEvent(event: RoomEvent): void {
    if (event.type === "room_deleted") {
      this.fail("room_deleted", `Room "${this.room}" was deleted.`);
    } else if (event.type === "step") {
      const holder = (event.holder as string | null) ?? null;
      if (holder === this.control.session) return;
      if (this.follow && !this.presenting && typeof event.step === "number") {
        this.pause();
        this.go(event.step);
      }
    } else if (event.type === "lease" && event.target === "presenter") {
      const holder = (event.holder as string | null) ?? null;
      this.presenter = holder === this.control.session ? null : holder;
      if (holder !== this.control.session && this.presenting) this.stopPresenting();
      this.updateStatus();
    } else if (event.type === "lease") {
      const holder = (event.holder as string | null) ?? null;
      if (holder) this.locks.set(String(event.target), holder);
      else this.locks.delete(String(event.target));
      this.updateStatus();
    } else if (event.type === "presence") {
      if (event.present) this.people.set(String(event.session), String(event.user));
      else this.people.delete(String(event.session));
      this.updateStatus();
    }
  }

  // -- navigation -----------------------------------------------------------------------
  /** A move by this user: it leads the room while it holds the presenter token. */
  private userGo(index: number): void {
    this.go(index);
    void this.lead();
  }

  go(index: number, force = false): void {
    const store = this.store;
    if (!store || !store.length) return;
    const length = store.length;
    index = ((Math.round(index) % length) + length) % length;
    if (!force && index === this.requested && index === this.displayed) return;
    this.requested = index;
    const ticket = ++this.ticket;
    this.slider.value = String(index);
    this.updateCounter();
    // A read for an earlier request that will not bring this frame is stale: drop it.
    if (this.loadingRead && !store.loading(index)) this.loadingRead.abort();
    const cached = store.get(index);
    if (cached) this.display(cached);
    else {
      const read = store.loading(index) ? undefined : (this.loadingRead = new AbortController());
      store
        .load(index, read?.signal)
        .then((frame) => {
          if (ticket === this.ticket && store === this.store && !this.disposed) this.display(frame);
        })
        .catch((error) => {
          if (ticket !== this.ticket || store !== this.store) return; // superseded
          if ((error as Error).name === "AbortError") return;
          if (error instanceof RangeError && index < store.length) return; // changing: a later event re-reads
          if (error instanceof ApiError && error.code === "not_found") this.failFrom(error, this.room);
          else if (error instanceof ApiError && error.status === 404) this.onData([{ type: "frames_deleted" }]);
          else this.setBanner(`cannot load frame ${index}: ${(error as Error).message}`);
        });
    }
    store.prefetch(index, this.playing ? PREFETCH_AHEAD : 4);
  }

  private display(frame: Frame): void {
    if (!this.renderer) return;
    this.shownFrame = frame;
    this.renderer.setFrame(frame);
    this.displayed = frame.index;
    this.updateCounter();
    if (this.locks.size) this.updateStatus(); // "this frame is being edited" follows the frame
    this.syncStep(frame.index);
  }

  private onRendered(): void {
    this.draws += 1;
    if (this.displayed >= 0) {
      this.root.dataset.zndrawRendered = String(this.displayed);
      this.root.dataset.zndrawStatus = "ok";
      this.root.dataset.zndrawDraws = String(this.draws);
      this.root.dataset.zndrawAtoms = String(this.renderer?.atomCount ?? 0);
      if (!this.root.dataset.zndrawFirstDrawMs) this.root.dataset.zndrawFirstDrawMs = (performance.now() - this.created).toFixed(0);
    }
    if (this.playing) {
      const now = performance.now();
      this.frameTimes.push(now);
      while (this.frameTimes.length && now - this.frameTimes[0] > 1000) this.frameTimes.shift();
    }
  }

  /** Tell the kernel where the view is (throttled: at most ~4 updates a second). */
  private syncStep(index: number): void {
    if (index === this.stepSent) return;
    if (this.stepTimer) return;
    const send = () => {
      this.stepTimer = null;
      if (this.disposed || this.displayed < 0 || this.displayed === this.stepSent) return;
      this.stepSent = this.displayed;
      this.model.set("step", this.displayed);
      this.model.save_changes();
    };
    if (this.playing) this.stepTimer = setTimeout(send, 250);
    else send();
  }

  // -- playback -------------------------------------------------------------------------
  togglePlay(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  play(): void {
    if (this.playing || !this.store?.length) return;
    this.playing = true;
    this.playButton.innerHTML = icon("pause");
    this.playButton.setAttribute("aria-pressed", "true");
    this.root.dataset.zndrawPlaying = "true";
    this.frameTimes = [];
    this.lastTick = performance.now();
    void this.lead();
    const tick = (now: number) => {
      if (!this.playing) return;
      this.playTimer = requestAnimationFrame(tick);
      const store = this.store;
      if (!store || !store.length) return;
      const interval = 1000 / this.fps;
      // A frame that has just arrived from the server: show it for a whole interval.
      if (this.renderer?.flush()) {
        this.lastTick = now;
        return;
      }
      // Advance only once the requested frame is on screen: never run ahead of the data.
      if (now - this.lastTick >= interval - 1 && this.displayed === this.requested) {
        this.lastTick = now - Math.min(interval, now - this.lastTick - interval);
        this.go(this.displayed + 1);
        this.announceStep();
        // Draw in this animation frame: a request made now would run on the next one,
        // after this tick has moved on again, and every other frame would never be seen.
        this.renderer?.flush();
      }
      if (now - this.lastFpsShown > 500) {
        this.lastFpsShown = now;
        this.fpsLabel.textContent = `${this.frameTimes.length}`;
        this.root.dataset.zndrawFps = String(this.frameTimes.length);
      }
    };
    this.playTimer = requestAnimationFrame(tick);
  }

  pause(): void {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this.playTimer);
    this.playButton.innerHTML = icon("play");
    this.playButton.setAttribute("aria-pressed", "false");
    this.root.dataset.zndrawPlaying = "false";
    this.fpsLabel.textContent = "";
    if (this.displayed >= 0) this.syncStep(this.displayed);
    this.releaseLater();
  }

  // -- presenter ------------------------------------------------------------------------
  private setFollow(follow: boolean): void {
    this.follow = follow;
    this.presentButton.setAttribute("aria-pressed", String(follow));
    this.updateStatus();
  }

  /** Take (or keep) the presenter token and announce the current frame. */
  private async lead(): Promise<void> {
    if (!this.follow || this.control.status !== "open" || !this.room) return;
    this.releaseLater();
    if (!this.presenting) {
      if (this.presenter) return; // someone else leads: navigate locally only
      try {
        await this.control.request({ type: "request_presenter_token", room: this.room, ttl: PRESENTER_TTL });
      } catch (error) {
        if (error instanceof ControlError && error.code === "locked") {
          this.presenter = String(error.details.holder ?? "someone");
          this.updateStatus();
        }
        return;
      }
      this.presenting = true;
      this.presenter = null;
      this.updateStatus();
      this.presenterRenew = setInterval(() => {
        this.control.request({ type: "renew_presenter_token", room: this.room, ttl: PRESENTER_TTL }).catch(() => this.stopPresenting());
      }, (PRESENTER_TTL * 1000) / 2.5);
    }
    this.announceStep();
  }

  private announceStep(): void {
    if (!this.presenting) return;
    const frame = this.requested;
    if (frame < 0 || frame === this.announced) return;
    this.announced = frame;
    this.control.notify({ type: "set_room_frame", room: this.room, frame });
  }

  private releaseLater(): void {
    if (this.presenterIdle) clearTimeout(this.presenterIdle);
    this.presenterIdle = setTimeout(() => {
      if (this.playing || this.drag) return this.releaseLater();
      if (this.presenting) this.control.notify({ type: "release_presenter_token", room: this.room });
      this.stopPresenting();
    }, PRESENTER_IDLE_MS);
  }

  private stopPresenting(): void {
    this.presenting = false;
    this.announced = -1;
    if (this.presenterRenew) clearInterval(this.presenterRenew);
    this.presenterRenew = null;
    this.updateStatus();
  }

  // -- selection and editing -------------------------------------------------------------
  private bindPointer(): void {
    const canvas = this.renderer!.canvas;
    canvas.addEventListener("pointerdown", (e) => {
      this.root.focus({ preventScroll: true });
      const renderer = this.renderer;
      if (!renderer || e.button !== 0) return;
      const { x, y } = this.local(e);
      this.pointerDown = { x, y };
      const selection: number[] = this.model.get("selection") ?? [];
      if (e.shiftKey || e.ctrlKey || e.metaKey || !selection.length) return;
      const atom = renderer.pick(x, y);
      if (atom === null || !selection.includes(atom) || !this.shownFrame) return;
      // Drag the selection in the plane facing the camera.
      const p = renderer.positions;
      const start = renderer.pointOnPlane(x, y, vec(p, atom, renderer));
      this.drag = { start, atoms: selection.filter((i) => i < p.length / 3), original: p.slice(), moved: false };
      renderer.controls.enabled = false;
      canvas.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", (e) => {
      const drag = this.drag;
      const renderer = this.renderer;
      if (!drag || !renderer) return;
      const { x, y } = this.local(e);
      const anchor = vec(drag.original, drag.atoms[0], renderer);
      const offset = renderer.pointOnPlane(x, y, anchor).sub(drag.start);
      const p = renderer.editablePositions();
      for (const i of drag.atoms) {
        p[3 * i] = drag.original[3 * i] + offset.x;
        p[3 * i + 1] = drag.original[3 * i + 1] + offset.y;
        p[3 * i + 2] = drag.original[3 * i + 2] + offset.z;
      }
      drag.moved = true;
      renderer.positionsChanged();
    });
    canvas.addEventListener("pointerup", (e) => {
      const renderer = this.renderer;
      if (!renderer) return;
      const drag = this.drag;
      if (drag) {
        this.drag = null;
        renderer.controls.enabled = true;
        if (drag.moved) void this.commitDrag(drag.atoms, drag.original);
        return;
      }
      const down = this.pointerDown;
      this.pointerDown = null;
      const { x, y } = this.local(e);
      if (!down || Math.hypot(x - down.x, y - down.y) > 4) return; // a rotation, not a click
      const atom = renderer.pick(x, y);
      let selection: number[] = [...(this.model.get("selection") ?? [])];
      if (e.shiftKey || e.ctrlKey || e.metaKey) {
        if (atom === null) return;
        selection = selection.includes(atom) ? selection.filter((i) => i !== atom) : [...selection, atom];
      } else {
        selection = atom === null ? [] : [atom];
      }
      this.setSelection(selection);
    });
  }

  private local(e: PointerEvent | MouseEvent): { x: number; y: number } {
    const rect = this.renderer!.canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  setSelection(selection: number[]): void {
    this.model.set("selection", selection);
    this.model.save_changes();
    this.renderer?.setSelection(selection);
  }

  /** Write the dragged positions: frame lease, PATCH with base_version, release. */
  private async commitDrag(atoms: number[], original: Float32Array): Promise<void> {
    const frame = this.shownFrame;
    const renderer = this.renderer;
    if (!frame || !renderer) return;
    // The frame's own positions (full precision), with only the dragged atoms moved.
    const positions = Float64Array.from(frame.positions);
    const moved = renderer.positions;
    for (const i of atoms) for (let k = 0; k < 3; k++) positions[3 * i + k] = moved[3 * i + k];
    const target = `frame:${frame.id}`;
    const restore = (text: string) => {
      renderer.editablePositions().set(original);
      renderer.positionsChanged();
      this.setBanner(text, 6000);
    };
    let leased = false;
    try {
      if (this.control.status === "open") {
        await this.control.request({ type: "lock_request", room: this.room, target, ttl: 10 });
        leased = true;
      }
      const result = await this.data.patchPositions(this.room, frame.index, frame.version, positions);
      const edited: Frame = { ...frame, positions, display: new Float32Array(positions), version: result.version };
      this.store?.replace(edited);
      if (this.sync && result.seq === this.sync.seq + 1) this.sync.seq = result.seq;
      this.shownFrame = edited;
      this.root.dataset.zndrawEdited = String(result.version);
    } catch (error) {
      if (error instanceof ControlError && error.code === "locked") restore(`frame ${frame.index} is being edited by ${error.details.holder ?? "someone else"}: your move was undone`);
      else if (error instanceof ApiError && error.code === "conflict")
        restore(`frame ${frame.index} changed meanwhile (now version ${error.details.current_version}): your move was undone`);
      else if (error instanceof ApiError && error.code === "locked") restore(`frame ${frame.index} is locked by ${error.details.holder ?? "someone else"}: your move was undone`);
      else restore(`saving the move failed: ${(error as Error).message}`);
      if (error instanceof ApiError && error.code === "conflict") this.go(frame.index, true);
    } finally {
      if (leased) this.control.notify({ type: "lock_release", room: this.room, target });
    }
  }

  // -- keys and screenshot ---------------------------------------------------------------
  private onKey(e: KeyboardEvent): void {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) {
      if (e.key !== " ") return;
    }
    const length = this.store?.length ?? 0;
    let handled = true;
    switch (e.key) {
      case " ":
        this.togglePlay();
        break;
      case "ArrowRight":
        this.userGo(this.current() + (e.shiftKey ? 10 : 1));
        break;
      case "ArrowLeft":
        this.userGo(this.current() - (e.shiftKey ? 10 : 1));
        break;
      case "Home":
        this.userGo(0);
        break;
      case "End":
        this.userGo(length - 1);
        break;
      case "f":
        this.renderer?.fit();
        break;
      case "s":
        this.downloadScreenshot();
        break;
      case "Escape":
        this.setSelection([]);
        break;
      case "a":
        if (e.ctrlKey || e.metaKey) this.setSelection(Array.from({ length: this.renderer?.atomCount ?? 0 }, (_, i) => i));
        else handled = false;
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  private downloadScreenshot(): void {
    if (!this.renderer) return;
    const link = document.createElement("a");
    link.href = this.renderer.screenshot();
    link.download = `${this.room || "zndraw"}-${Math.max(0, this.displayed)}.png`;
    link.click();
  }
}

function vec(p: Float32Array, i: number, renderer: Renderer): Vector3 {
  return renderer.camera.position.clone().set(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
}

