// The viewer's DOM: the view (canvas, status line, message, banner) and the toolbar (buttons
// with inline SVG icons, frame slider, counter, speed, follow). It shows what it is told and
// reports clicks as actions; it holds no viewer state of its own.
import { CSS } from "../style";
import { Markers, ROLES } from "./markers";
import type { Popover } from "./popover";

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

/** A toolbar button: an icon (when ``label`` names one) or ``label`` as text; ``title`` is
 * its tooltip and accessible name; ``role`` (optional) its ``data-role`` for tests. */
export function button(label: string, title: string, role?: string): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  if (ICONS[label]) b.innerHTML = icon(label);
  else b.textContent = label;
  b.title = title;
  b.setAttribute("aria-label", title);
  if (role) b.dataset.role = role;
  return b;
}

/** The playback speeds offered (frames/s). */
const SPEEDS = [1, 5, 10, 15, 30, 60];

/** What the toolbar's controls do (the buttons run the same commands as the keys). */
export type ToolbarActions = Record<"first" | "previous" | "next" | "last" | "togglePlay" | "fit" | "screenshot", () => void> & {
  seek(index: number): void;
  setFps(fps: number): void;
  toggleFollow(): void;
};

export class Controls {
  readonly root = document.createElement("div");
  readonly view = document.createElement("div");
  readonly markers = new Markers(this.root);
  /** The toolbar (parts add their controls to it). */
  readonly bar = document.createElement("div");
  private message = document.createElement("div");
  private banner = document.createElement("div");
  private status = document.createElement("div");
  private slider = document.createElement("input");
  private counter = document.createElement("span");
  private fpsLabel = document.createElement("span");
  private fpsSelect = document.createElement("select");
  private playButton = button("play", "Play / pause (space)");
  private followButton = button("Follow", "Follow the room's presenter");
  private bannerTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(el: HTMLElement, height: number, fps: number, actions: ToolbarActions) {
    const style = document.createElement("style");
    style.textContent = CSS;
    this.root.className = "zn-root";
    this.root.tabIndex = 0;
    this.markers.set("status", "loading");
    if (height > 0) this.root.style.setProperty("--zn-height", `${height}px`);
    this.view.className = "zn-view";
    this.message.className = "zn-message";
    this.banner.className = "zn-banner";
    this.status.className = "zn-status";
    this.view.append(this.status, this.message, this.banner);

    const bar = this.bar;
    bar.className = "zn-bar";
    const first = button("first", "First frame (Home)");
    const back = button("prev", "Previous frame (←)");
    const forward = button("next", "Next frame (→)");
    const last = button("last", "Last frame (End)");
    const fit = button("fit", "Fit the view (f)");
    const shot = button("camera", "Save a screenshot (s)");
    shot.dataset.role = ROLES.screenshot;
    this.slider.type = "range";
    this.slider.min = "0";
    this.slider.max = "0";
    this.slider.value = "0";
    this.slider.setAttribute("aria-label", "Frame");
    this.counter.className = "zn-counter";
    this.counter.textContent = "– / –";
    this.fpsLabel.className = "zn-fps";
    for (const value of SPEEDS) {
      const option = document.createElement("option");
      option.value = String(value);
      option.textContent = `${value} fps`;
      if (value === fps) option.selected = true;
      this.fpsSelect.append(option);
    }
    this.fpsSelect.title = "Playback speed";
    this.fpsSelect.setAttribute("aria-label", "Playback speed");
    this.playButton.dataset.role = ROLES.play;
    this.slider.dataset.role = ROLES.slider;
    this.counter.dataset.role = ROLES.counter;
    this.followButton.dataset.role = ROLES.follow;
    this.followButton.setAttribute("aria-pressed", "true");
    bar.append(first, back, this.playButton, forward, last, this.slider, this.counter, this.fpsSelect, this.fpsLabel, this.followButton, fit, shot);
    this.root.append(style, this.view, bar);
    el.append(this.root);

    first.onclick = () => actions.first();
    back.onclick = () => actions.previous();
    forward.onclick = () => actions.next();
    last.onclick = () => actions.last();
    this.playButton.onclick = () => actions.togglePlay();
    this.slider.oninput = () => actions.seek(Number(this.slider.value));
    this.fpsSelect.onchange = () => actions.setFps(Number(this.fpsSelect.value));
    this.followButton.onclick = () => actions.toggleFollow();
    fit.onclick = () => actions.fit();
    shot.onclick = () => actions.screenshot();
  }

  /** Put the canvas into the view, under the status line and messages. */
  addCanvas(canvas: HTMLCanvasElement): void {
    this.view.insertBefore(canvas, this.status);
  }

  /** A part's panel under the view, and its popover in the toolbar (before fit and
   * screenshot). */
  addPart(panel: HTMLElement, popover: Popover): void {
    this.root.insertBefore(panel, this.bar);
    popover.mount(this.bar, this.bar.lastElementChild?.previousElementSibling ?? null);
  }

  /** A message in place of the view (null: hide it). */
  setMessage(text: string | null, error = false): void {
    this.message.textContent = text ?? "";
    this.message.classList.toggle("zn-show", !!text);
    this.message.classList.toggle("zn-error", error);
  }

  /** A banner over the view, hidden after ``timeout`` ms if given (null: hide it). */
  setBanner(text: string | null, timeout = 0): void {
    if (this.bannerTimer) clearTimeout(this.bannerTimer);
    this.bannerTimer = null;
    this.banner.textContent = text ?? "";
    this.banner.classList.toggle("zn-show", !!text);
    if (text && timeout) this.bannerTimer = setTimeout(() => this.setBanner(null), timeout);
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  /** The slider's range for a room of ``length`` frames. */
  setLength(length: number): void {
    this.slider.max = String(Math.max(0, length - 1));
  }

  /** The counter "shown / last (→requested)" and the slider's position. */
  showPosition(displayed: number, requested: number, length: number, moveSlider: boolean): void {
    if (moveSlider) this.slider.value = String(requested);
    let text = `${displayed >= 0 ? displayed : "–"} / ${Math.max(0, length - 1)}`;
    if (requested >= 0 && requested !== displayed) text += ` (→${requested})`;
    this.counter.textContent = text;
    this.markers.set("length", length);
    this.markers.set("requested", requested);
  }

  setPlaying(playing: boolean): void {
    this.playButton.innerHTML = icon(playing ? "pause" : "play");
    this.playButton.setAttribute("aria-pressed", String(playing));
    this.markers.set("playing", playing);
    if (!playing) this.fpsLabel.textContent = "";
  }

  /** The measured playback rate. */
  showFps(fps: number): void {
    this.fpsLabel.textContent = `${fps}`;
    this.markers.set("fps", fps);
  }

  /** A frame was drawn: the markers the tests and benchmarks wait on. */
  rendered(index: number, draws: number, atoms: number, sinceCreated: number): void {
    const { markers } = this;
    markers.set("rendered", index);
    markers.set("status", "ok");
    markers.set("draws", draws);
    markers.set("atoms", atoms);
    if (!markers.has("firstDrawMs")) markers.set("firstDrawMs", sinceCreated.toFixed(0));
  }

  setFollow(follow: boolean): void {
    this.followButton.setAttribute("aria-pressed", String(follow));
  }
}
