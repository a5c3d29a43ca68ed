// The room a viewer shows: opening it (info, frames, joining its control channel), keeping
// up with its events (data changes through RoomSync; presenter, leases, presence, access),
// and the messages for what goes wrong.
import { ControlClient, ControlOptions } from "../control";
import { ApiError, RoomInfo } from "../data";
import type { Frame } from "../frames";
import type { ControlEvent, JoinReply } from "../protocol";
import { PRESENTER } from "../protocol";
import { FrameStore } from "../store";
import { OtherEvent, RoomSync } from "../sync";
import type { Viewer } from "./viewer";

export class RoomLink {
  /** The room's name ("" before one is opened). */
  name = "";
  private sync: RoomSync | null = null;
  private openToken = 0;

  constructor(private readonly viewer: Viewer) {}

  /** The control client, reporting to this room. */
  controlClient(url: string, socket?: ControlOptions["socket"]): ControlClient {
    return new ControlClient({
      url,
      socket,
      onEvent: (event) => this.onEvent(event),
      onStatus: (status, detail) => {
        if (this.viewer.disposed) return;
        this.viewer.ui.markers.set("control", status);
        if (status === "reconnecting") this.viewer.ui.setBanner(`connection to the server lost (${detail ?? ""}): reconnecting…`);
        else if (status === "open") this.viewer.ui.setBanner(null);
      },
      onJoined: (room, reply, reconnected) => {
        if (reconnected && room === this.name) this.joined(reply);
      },
      onJoinError: (room, error) => {
        if (room === this.name) this.fail(error.code, `cannot rejoin room "${room}": ${error.message}`);
      },
    });
  }

  async open(room: string): Promise<void> {
    const { viewer } = this;
    const { ui, nav, presenter, control } = viewer;
    const token = ++this.openToken;
    viewer.playback.pause();
    if (this.name && this.name !== room) {
      presenter.release();
      void control.leave(this.name);
    }
    this.name = room;
    ui.markers.set("room", room);
    ui.markers.set("status", "loading");
    ui.markers.delete("error");
    ui.markers.delete("rendered");
    nav.reset();
    nav.store?.dispose(); // the room's frames and their background reads end here
    presenter.holder = null;
    viewer.presence.clear();
    viewer.selections.clear();
    viewer.bookmarks.clear();
    viewer.files.clear();
    viewer.access.clear();
    viewer.updateStatus();
    if (!room) {
      this.fail("no_room", "No room: create the viewer with Viewer(room=\"name\") or Viewer(frames).");
      return;
    }
    ui.setMessage(`Loading room "${room}"…`);
    let info: RoomInfo;
    try {
      info = await viewer.data.roomInfo(room);
    } catch (error) {
      if (token === this.openToken) this.failFrom(error);
      return;
    }
    if (token !== this.openToken) return;
    viewer.access.update(info);
    const store = (nav.store = new FrameStore(viewer.data, room));
    store.setExtraFields(viewer.extraFields);
    store.onPreloaded = (frame) => viewer.renderer?.prepare(frame);
    store.length = info.length;
    viewer.plots.open();
    this.sync = new RoomSync(info.seq, (since) => viewer.data.events(room, since), {
      onData: (events) => this.changed(nav.apply(events)),
      onReload: () => this.changed(nav.clear()),
      onOther: (event) => this.onOther(event),
      onError: (error) => ui.setBanner(`could not resynchronise: ${error.message}`),
    });
    this.lengthChanged();
    void this.join(room, token);
    // Start where the kernel asked, unless someone is presenting: then where they are.
    let start = Number(viewer.model.model.get("step") ?? 0);
    const presenting = info.leases?.some((l) => l.target === PRESENTER);
    if (presenting && typeof info.step === "number" && info.step >= 0 && presenter.follow) start = info.step;
    if (!info.length) {
      ui.markers.set("status", "empty");
      ui.setMessage(`Room "${room}" has no frames yet: drop a trajectory file here, or append frames from Python (room.append(atoms)).`);
      return;
    }
    ui.setMessage(null);
    nav.go(Math.min(Math.max(0, start), info.length - 1));
  }

  private async join(room: string, token: number): Promise<void> {
    const { control } = this.viewer;
    try {
      if (control.status !== "open") await control.connect();
      if (token !== this.openToken) return;
      const reply = await control.join(room);
      if (token !== this.openToken) return;
      this.joined(reply);
    } catch (error) {
      if (token !== this.openToken) return;
      this.viewer.ui.setBanner(`live updates unavailable: ${(error as Error).message}. Retrying…`);
    }
  }

  /** The room was (re)joined: who is there, who presents, and what was missed. */
  private joined(reply: JoinReply): void {
    const { viewer } = this;
    const { presenter } = viewer;
    const leases = reply.leases ?? [];
    viewer.access.update(reply.room);
    viewer.presence.joined(reply.presence ?? [], leases);
    viewer.selections.joined(reply.selections, viewer.model.model.get("selection") ?? []);
    viewer.bookmarks.joined(reply.bookmarks);
    void viewer.files.joined();
    presenter.joined(leases);
    viewer.updateStatus();
    void this.sync?.resync();
    const info = reply.room;
    if (info && typeof info.step === "number" && presenter.holder && presenter.follow && !presenter.presenting) viewer.nav.go(info.step);
  }

  /** A fatal problem: a clear message in place of the view. */
  fail(code: string, text: string): void {
    const { ui } = this.viewer;
    this.viewer.playback.pause();
    ui.markers.set("status", "error");
    ui.markers.set("error", code);
    ui.setMessage(text, true);
  }

  /** A fatal problem from an error the server (or the network) gave. */
  failFrom(error: unknown): void {
    const room = this.name;
    if (error instanceof ApiError) {
      if (error.code === "not_found") this.fail("not_found", `Room "${room}" does not exist. ${error.message}`);
      else if (error.status === 403 || error.status === 401) this.fail("forbidden", `Access denied (${error.status}): ${error.message}`);
      else if (error.code === "extension_missing") this.fail("extension_missing", error.message);
      else this.fail(error.code, error.message);
    } else {
      this.fail("error", String((error as Error)?.message ?? error));
    }
  }

  /** Reading frame ``index`` failed. */
  loadFailed(index: number, error: unknown): void {
    if (error instanceof ApiError && error.code === "not_found") this.failFrom(error);
    else if (error instanceof ApiError && error.status === 404) this.changed(this.viewer.nav.clear()); // gone: re-read
    else this.viewer.ui.setBanner(`cannot load frame ${index}: ${(error as Error).message}`);
  }

  /** A drag edit was saved as ``edited``; ``seq``: the room's after the write. */
  saved(edited: Frame, seq: number): void {
    this.viewer.nav.replace(edited);
    if (this.sync && seq === this.sync.seq + 1) this.sync.seq = seq;
    this.viewer.ui.markers.set("edited", edited.version);
  }

  private lengthChanged(): void {
    this.viewer.ui.setLength(this.viewer.nav.length);
    this.viewer.showPosition(false);
  }

  // -- events ---------------------------------------------------------------------------
  private onEvent(event: ControlEvent): void {
    if (event.type === "error") {
      if (event.error === "locked" && this.viewer.presenter.presenting) this.viewer.presenter.stop();
      return;
    }
    if (event.room !== this.name) return;
    this.sync?.handle(event);
  }

  /** Frames changed (``changed``: the indices; null: any; undefined: no room open). */
  private changed(changed: Set<number> | null | undefined): void {
    const { viewer } = this;
    const { nav, ui } = viewer;
    if (changed === undefined) return;
    this.lengthChanged();
    viewer.plots.changed(changed);
    if (!nav.length) {
      viewer.playback.pause();
      nav.reset();
      ui.setMessage(`Room "${this.name}" has no frames.`);
      viewer.showPosition(false);
      return;
    }
    ui.setMessage(null);
    nav.refresh(changed);
  }

  private onOther(event: OtherEvent): void {
    const { viewer } = this;
    const { presenter } = viewer;
    if (event.type === "room_deleted") {
      this.fail("room_deleted", `Room "${this.name}" was deleted.`);
    } else if (event.type === "step") {
      if (typeof event.step === "number") presenter.heard(event.holder, event.step);
      if (presenter.follows(event.holder) && typeof event.step === "number") {
        viewer.playback.pause();
        viewer.nav.go(event.step);
      }
    } else if (event.type === "lease") {
      viewer.presence.leased(event); // the holder's name (and a lock, unless the presenter's)
      if (event.target === PRESENTER) presenter.leased(event.holder);
      else viewer.updateStatus();
    } else if (event.type === "presence") {
      viewer.presence.presence(event);
      viewer.updateStatus();
    } else if (event.type === "access") {
      void viewer.access.changedOnServer();
    } else if (event.type === "selection") {
      viewer.selections.event(event);
    } else if (event.type === "bookmark") {
      viewer.bookmarks.event(event);
    } else if (event.type === "job") {
      viewer.files.event(event.job);
    }
  }
}
