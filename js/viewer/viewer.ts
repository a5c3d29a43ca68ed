// One Viewer per displayed widget view: it composes the parts (toolbar, navigation,
// playback, presenter, presence, access, plots, tools, keys, theme) and connects them to a room.
import { ControlClient } from "../control";
import type { DataClient } from "../data";
import { newSessionId } from "../env";
import type { Frame } from "../frames";
import { Renderer } from "../renderer";
import { deleteBookmark, putBookmark, putSelection } from "../shared";
import type { FrameStore } from "../store";
import { RoomAccess } from "./access";
import { Analysis } from "./analysis";
import { Controls } from "./controls";
import { bindKeys, Command } from "./keys";
import { credentials, Model, ModelListeners, StepTrait } from "./model";
import { Navigator } from "./navigator";
import { BookmarkList } from "./parts/bookmarks";
import { applyCamera, cameraState } from "./parts/camera";
import { Files } from "./parts/files";
import { History } from "./parts/history";
import { SelectionLegend } from "./parts/legend";
import { SharedSelections } from "./parts/selections";
import { Playback } from "./playback";
import { Plots } from "./plots";
import { Presence } from "./presence";
import { Presenter } from "./presenter";
import { RoomLink } from "./room";
import { followTheme } from "./theme";
import { CameraTrait } from "./camera-trait";
import { Figures } from "./figures";
import { LookControls } from "./looks";
import { DragEditTool } from "./tools/drag-edit";
import { SelectTool } from "./tools/select";
import { bindTools } from "./tools/tool";
import { KernelChannel, kernelChannel, openTransport, Transport, withSnapshot } from "../transport";

/** How long (ms) a warning about an undone edit stays. */
const UNDONE_MS = 6000;

export class Viewer {
  readonly root: HTMLElement;
  renderer: Renderer | null = null;
  data!: DataClient;
  control!: ControlClient;
  draws = 0;
  disposed = false;
  readonly ui: Controls;
  readonly nav: Navigator;
  readonly playback: Playback;
  readonly presenter: Presenter;
  readonly presence = new Presence();
  readonly access: RoomAccess;
  readonly plots: Plots;
  readonly model: ModelListeners;
  readonly step: StepTrait;
  /** Each user's selection in the room (this user's is the view's own). */
  readonly selections: SharedSelections;
  readonly bookmarks: BookmarkList;
  /** Uploads, their jobs' progress, downloads. */
  readonly files: Files;
  private readonly history: History;
  private historyCount = 0;
  private readonly room: RoomLink;
  private readonly session = newSessionId();
  private editTool: DragEditTool | null = null;
  /** Colour by property, arrows, periodic images, measurements, the inspector. */
  analysis: Analysis | null = null;
  /** Fields read with every frame besides those drawn (the analysis part's). */
  extraFields: string[] = [];
  private cameraTrait: CameraTrait | null = null;
  private stopTheme: (() => void) | null = null;
  /** HTTP or the widget's comm (js/transport.ts), and why. */
  transport: Transport | null = null;
  private kernel: KernelChannel | null = null;
  private readonly created = performance.now();
  /** ms spent putting frames into the renderer since the last draw (playback rests after long work). */
  private frameWork = 0;

  constructor(model: Model, el: HTMLElement) {
    this.model = new ModelListeners(model);
    this.nav = new Navigator({
      draw: (frame) => {
        if (!this.renderer) return false;
        const start = performance.now();
        this.renderer.setFrame(frame);
        this.frameWork += performance.now() - start;
        return true;
      },
      flush: () => this.renderer?.flush(),
      requested: () => this.showPosition(true),
      shown: (frame) => this.shown(frame),
      playing: () => this.playback.playing,
      failed: (index, error) => this.room.loadFailed(index, error),
      disposed: () => this.disposed,
    });
    this.playback = new Playback({
      length: () => this.nav.length,
      flush: () => !!this.renderer?.flush(),
      caughtUp: () => this.nav.displayed === this.nav.requested,
      advance: () => {
        this.nav.go(this.nav.displayed + 1);
        this.presenter.announce();
        // Draw in this animation frame: a request made now would run on the next one,
        // after this tick has moved on again, and every other frame would never be seen.
        this.renderer?.flush();
      },
      changed: (playing) => this.playbackChanged(playing),
      showFps: (fps) => this.ui.showFps(fps),
    });
    this.presenter = new Presenter({
      room: () => this.room.name,
      frame: () => this.nav.requested,
      busy: () => this.playback.playing || !!this.editTool?.active,
      readOnly: () => this.access.readOnly,
      changed: () => this.updateStatus(),
    });
    this.access = new RoomAccess({
      reread: () => this.data.roomInfo(this.room.name),
      changed: () => this.accessChanged(),
      failed: (error) => this.room.failFrom(error),
    });
    this.step = new StepTrait(model, () => (this.disposed ? null : this.nav.displayed));
    const { nav } = this;
    const commands: Record<Command, () => void> = {
      togglePlay: () => this.playback.toggle(),
      next: () => this.userGo(nav.current() + 1),
      previous: () => this.userGo(nav.current() - 1),
      next10: () => this.userGo(nav.current() + 10),
      previous10: () => this.userGo(nav.current() - 10),
      first: () => this.userGo(0),
      last: () => this.userGo(nav.length - 1),
      fit: () => this.renderer?.fit(),
      screenshot: () => this.downloadScreenshot(),
      clearSelection: () => this.setSelection([]),
      selectAll: () => this.setSelection(Array.from({ length: this.renderer?.atomCount ?? 0 }, (_, i) => i)),
      undo: () => void this.history.run("undo"),
      redo: () => void this.history.run("redo"),
      keepMeasurement: () => this.analysis?.keepSelection(),
    };
    this.ui = new Controls(el, Number(model.get("height") ?? 0), this.playback.fps, {
      ...commands,
      seek: (index) => this.userGo(index),
      setFps: (fps) => (this.playback.fps = fps),
      toggleFollow: () => this.setFollow(!this.presenter.follow),
    });
    this.root = this.ui.root;
    this.plots = new Plots({
      data: () => this.data, room: () => this.room.name, length: () => this.nav.length,
      go: (index) => this.userGo(index),
      chosen: (plots, x) => {
        this.model.model.set("plots", plots);
        this.model.model.set("plot_x", x);
        this.model.model.save_changes();
      },
    });
    this.ui.addPart(this.plots.panel, this.plots.chooser.popover);
    const legend = new SelectionLegend(this.ui.view);
    this.selections = new SharedSelections({
      user: () => this.control?.user ?? "",
      send: (atoms) => putSelection(this.data, this.room.name, atoms),
      showOwn: (atoms) => this.showSelection(atoms),
      showOthers: (groups) => {
        this.renderer?.setMarks(groups);
        legend.show(groups);
        this.ui.markers.set("marked", groups.reduce((n, g) => n + g.atoms.length, 0));
      },
      failed: (error) => this.ui.setBanner(`your selection is not shared: ${error.message}`, UNDONE_MS),
    });
    this.history = new History({
      room: () => this.room.name,
      data: () => this.data,
      readOnly: () => this.access.readOnly,
      settled: () => this.editTool?.settled() ?? Promise.resolve(),
      who: (session) => this.presence.who(session, this.control?.session),
      banner: (text) => this.ui.setBanner(text, UNDONE_MS),
      done: (action, outcome) => this.ui.markers.set("history", `${action} ${outcome} ${++this.historyCount}`),
    });
    this.bookmarks = new BookmarkList(this.ui.view, {
      readOnly: () => this.access.readOnly,
      jump: (name, bookmark) => {
        this.userGo(bookmark.frame);
        if (bookmark.camera && this.renderer) applyCamera(this.renderer, bookmark.camera);
        this.ui.markers.set("bookmark", name);
      },
      add: (name) => putBookmark(this.data, this.room.name, name, { frame: Math.max(0, this.nav.displayed), camera: this.renderer ? cameraState(this.renderer) : null }),
      remove: (name) => deleteBookmark(this.data, this.room.name, name),
      failed: (error) => this.ui.setBanner(`bookmark not saved: ${error.message}`, UNDONE_MS),
      changed: (count) => this.ui.markers.set("bookmarks", count),
    });
    this.files = new Files(this.ui.view, this.ui.bar, {
      data: () => this.data, room: () => this.room.name, user: () => this.control?.user ?? "",
      readOnly: () => this.access.readOnly, frame: () => this.nav.displayed, markers: this.ui.markers,
    });
    this.room = new RoomLink(this);
    bindKeys(this.root, (command) => commands[command]());
  }

  /** The frames of the room shown (null before it is open). */
  get store(): FrameStore | null {
    return this.nav.store;
  }

  // -- lifetime -------------------------------------------------------------------------
  async start(): Promise<void> {
    try {
      this.renderer = new Renderer(this.ui.view);
    } catch (error) {
      this.room.fail("webgl", `cannot draw: WebGL is not available in this browser (${(error as Error).message})`);
      return;
    }
    const renderer = this.renderer;
    this.ui.addCanvas(renderer.canvas);
    renderer.onRendered = (info) => this.onRendered(info.ms);
    this.stopTheme = followTheme(this.ui.view, renderer, () => this.plots.restyle());
    const selection = () => (this.model.model.get("selection") ?? []) as number[];
    const select = (atoms: number[]) => this.setSelection(atoms);
    this.editTool = new DragEditTool({
      renderer, selection, frame: () => this.nav.shown, room: () => this.room.name,
      readOnly: () => this.access.readOnly, who: (session) => this.presence.who(session, this.control?.session),
      control: () => this.control, data: () => this.data,
      saved: (edited, seq) => this.room.saved(edited, seq),
      undone: (text) => this.ui.setBanner(text, UNDONE_MS),
      reread: (index) => this.nav.go(index, true),
    });
    bindTools(renderer.canvas, this.root, [this.editTool, new SelectTool({ renderer, selection, select })]);
    this.analysis = new Analysis({
      renderer, listeners: this.model, view: this.ui.view, frame: () => this.nav.shown, room: () => this.room.name,
      data: () => this.data, selection, playing: () => this.playback.playing, readFields: (fields) => this.readFields(fields),
    });
    this.startFigures(renderer);
    this.model.on("change:room", () => void this.room.open(String(this.model.model.get("room"))));
    this.model.on("change:step", () => {
      const step = Number(this.model.model.get("step"));
      if (step !== this.step.sent && step !== this.nav.requested) this.nav.go(step);
    });
    this.model.on("change:selection", () => {
      renderer.setSelection(selection());
      this.selections.share(selection()); // set from the kernel: the room hears it too
      this.analysis?.selectionChanged();
    });
    const showPlots = () => this.plots.show(strings(this.model.model.get("plots")), String(this.model.model.get("plot_x") ?? ""));
    this.model.on("change:plots", showPlots);
    this.model.on("change:plot_x", showPlots);
    showPlots();
    renderer.setSelection(selection());
    const token = await credentials(this.model, () => this.ui.setMessage("Waiting for the kernel to pass the server's token…"));
    if (this.disposed) return;
    await this.connect(token);
    if (this.disposed) return;
    await this.room.open(String(this.model.model.get("room") ?? ""));
  }

  private async connect(token: string | undefined): Promise<void> {
    const chosen = await openTransport(this.model.model, this.session, token, () => (this.kernel = kernelChannel(this.model.model)));
    const { transport, later } = await withSnapshot(this.model.model, chosen, this.session);
    this.use(transport);
    // A saved snapshot shows until the kernel answers (if it ever does): then the room, live.
    void later?.then((comm) => {
      if (this.disposed) return;
      this.control.close();
      this.use(comm);
      void this.room.open(String(this.model.model.get("room") ?? ""));
    });
  }

  private use(transport: Transport): void {
    this.transport = transport;
    this.ui.markers.set("transport", transport.kind);
    this.data = transport.data;
    this.control = this.room.controlClient(transport.controlUrl, transport.socket);
    this.presenter.attach(this.control);
  }

  dispose(): void {
    this.disposed = true;
    this.playback.pause();
    this.nav.store?.dispose();
    this.model.dispose();
    this.presenter.dispose();
    this.control?.close();
    this.kernel?.dispose();
    this.stopTheme?.();
    this.analysis?.dispose();
    this.plots.dispose();
    this.cameraTrait?.dispose();
    this.renderer?.dispose();
    this.root.remove();
  }

  // -- what the parts tell each other -----------------------------------------------------
  /** A move by this user: it leads the room while it holds the presenter token. */
  private userGo(index: number): void {
    this.nav.go(index);
    void this.presenter.lead();
  }

  private shown(frame: Frame): void {
    this.showPosition(false);
    if (this.presence.hasLocks) this.updateStatus(); // "this frame is being edited" follows the frame
    this.step.update(frame.index, this.playback.playing);
    this.plots.mark(frame.index);
    this.analysis?.shown();
  }

  /** Read ``fields`` too with every frame from now on; show the frame again with them. */
  private readFields(fields: string[]): void {
    this.extraFields = fields;
    if (this.nav.store?.setExtraFields(fields)) this.nav.refresh(null);
  }

  /** A draw took ``ms`` (besides the frame's setup since the last draw). */
  private onRendered(ms: number): void {
    this.draws += 1;
    const { displayed } = this.nav;
    if (displayed >= 0) this.ui.rendered(displayed, this.draws, this.renderer?.atomCount ?? 0, performance.now() - this.created);
    this.playback.drawn(ms + this.frameWork);
    this.frameWork = 0;
  }

  private playbackChanged(playing: boolean): void {
    this.ui.setPlaying(playing);
    if (playing) void this.presenter.lead();
    else {
      if (this.nav.displayed >= 0) this.step.update(this.nav.displayed, false);
      this.presenter.releaseLater();
      this.analysis?.shown();
    }
  }

  showPosition(moveSlider: boolean): void {
    this.ui.showPosition(this.nav.displayed, this.nav.requested, this.nav.length, moveSlider);
  }

  /** The user's role in the room changed: read-only shows, and a reader gives up leading. */
  private accessChanged(): void {
    if (this.access.readOnly) {
      this.ui.markers.set("readonly", true);
      this.presenter.release();
    } else {
      this.ui.markers.delete("readonly");
    }
    this.bookmarks.render();
    this.files.accessChanged();
    this.updateStatus();
  }

  private setFollow(follow: boolean): void {
    this.ui.setFollow(follow);
    this.presenter.setFollow(follow);
  }

  updateStatus(): void {
    const status = this.presence.status({
      room: this.room.name, self: this.control?.session, presenting: this.presenter.presenting,
      presenter: this.presenter.holder, follow: this.presenter.follow, frameId: this.nav.shown?.id,
      note: [this.access.note, this.transportNote()].filter(Boolean).join("; ") || null,
    });
    this.ui.setStatus(status.text);
    this.ui.markers.set("present", status.present);
    this.ui.markers.set("locked", status.locked.join(","));
  }

  /** The status note of a view that does not use HTTP (the comm or a saved page): why. */
  private transportNote(): string | null {
    const transport = this.transport;
    if (!transport || transport.kind === "http") return null;
    return transport.kind === "comm" ? `through the kernel: ${transport.reason}` : transport.reason;
  }

  /** The user selected ``selection`` here: the trait, the view and the room follow. */
  setSelection(selection: number[]): void {
    this.showSelection(selection);
    this.selections.share(selection);
  }

  /** Show ``selection`` as this view's (and the widget's ``selection`` trait). */
  private showSelection(selection: number[]): void {
    this.model.model.set("selection", selection);
    this.model.model.save_changes();
    this.renderer?.setSelection(selection);
    this.analysis?.selectionChanged();
  }

  /** Looks (style trait, menus), the camera trait, and figures for the kernel. */
  private startFigures(renderer: Renderer): void {
    const figures = new Figures({
      model: this.model.model, renderer: () => this.renderer, data: () => this.data ?? null, store: () => this.store, view: this.session,
      restore: () => this.nav.go(this.nav.current(), true), progress: (text) => this.ui.setBanner(text),
    });
    this.model.on("msg:custom", (message: unknown) => figures.receive(message));
    this.cameraTrait = new CameraTrait(this.model, renderer);
    new LookControls({
      listeners: this.model, renderer, bar: this.ui.bar, banner: (text) => this.ui.setBanner(text, UNDONE_MS),
      shown: (look) => this.ui.markers.set("look", look), movie: figures.canRecord ? () => figures.requestMovie() : null,
    });
  }

  private downloadScreenshot(): void {
    if (!this.renderer) return;
    const link = document.createElement("a");
    link.href = this.renderer.screenshot();
    link.download = `${this.room.name || "zndraw"}-${Math.max(0, this.nav.displayed)}.png`;
    link.click();
  }
}

/** A trait's list of names (anything else: none). */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
