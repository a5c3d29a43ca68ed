// Files in and out of the room shown: drop files on the view (or pick them with the upload
// button) to import them as background jobs, a progress bar per job from the room's `job`
// events (cancel while it runs; a failure says what and where), and a download form, the
// download button's pop-up (this frame, frames typed as a list or slice, or the whole room,
// in a chosen format). Uploads need write access; the logic without the DOM is in
// ../../jobs.ts.
import type { DataClient } from "../../data";
import { EXPORT_FORMATS, ExportScope, exportPath, jobView } from "../../jobs";
import type { Job } from "../../protocol";
import type { Markers } from "../markers";
import { button } from "../controls";
import { Popover } from "../popover";

/** Its CSS: the theme's colours (--zn-*, ../../style.ts). */
const CSS = `
.zn-jobs { position: absolute; left: 8px; bottom: 40px; display: flex; flex-direction: column; gap: 3px; max-width: 55%; font-size: 11px; }
.zn-job { display: flex; align-items: center; gap: 6px; padding: 3px 6px; border-radius: 3px; background: var(--zn-bg1);
  border: 1px solid var(--zn-border); opacity: 0.95; }
.zn-job[data-state="failed"] { border-color: var(--zn-error); color: var(--zn-error); }
.zn-job progress { width: 120px; flex: none; }
.zn-job span { overflow: hidden; text-overflow: ellipsis; }
.zn-job button { border: 1px solid var(--zn-border1); border-radius: 3px; padding: 0 5px; cursor: pointer; font: inherit;
  background: var(--zn-bg); color: var(--zn-fg); }
.zn-view.zn-dropping { outline: 3px dashed var(--zn-accent); outline-offset: -6px; }
.zn-export { font-size: 11px; }
.zn-export input { font: inherit; background: var(--zn-bg); color: inherit; border: 1px solid var(--zn-border1); }
.zn-export .zn-export-error { color: var(--zn-error); max-width: 260px; }
`;

const UPLOAD = "M11 16V7.8l-3.6 3.6L6 10l6-6 6 6-1.4 1.4L13 7.8V16zM5 20v-2h14v2z";
const DOWNLOAD = "M11 4v8.2l-3.6-3.6L6 10l6 6 6-6-1.4-1.4-3.6 3.6V4zM5 20v-2h14v2z";
/** How long (ms) a finished import stays listed. */
const DONE_MS = 5000;

export interface FilesHost {
  data(): DataClient;
  room(): string;
  /** The user of this viewer (whose uploads it follows). */
  user(): string;
  readOnly(): boolean;
  /** The frame shown (-1: none). */
  frame(): number;
  markers: Markers;
}

export class Files {
  private readonly list = document.createElement("div");
  private readonly form = document.createElement("div");
  private readonly uploadButton: HTMLButtonElement;
  private readonly input = document.createElement("input");
  private readonly rows = new Map<string, HTMLElement>();
  /** Files being sent, by name: their row until the job's first event names them. */
  private readonly sending = new Map<string, HTMLElement>();
  private readonly scope = document.createElement("select");
  private readonly index = document.createElement("input");
  private readonly format = document.createElement("select");
  private readonly formError = document.createElement("div");
  private downloads = 0;

  constructor(private readonly view: HTMLElement, bar: HTMLElement, private readonly host: FilesHost) {
    const style = document.createElement("style");
    style.textContent = CSS;
    this.list.className = "zn-jobs";
    this.list.setAttribute("aria-label", "Imports");
    this.list.setAttribute("role", "status");
    this.input.type = "file";
    this.input.multiple = true;
    this.input.hidden = true;
    this.input.dataset.role = "upload-input";
    this.input.setAttribute("aria-label", "Trajectory files to upload into the room");
    this.input.onchange = () => {
      this.uploadAll([...(this.input.files ?? [])]);
      this.input.value = "";
    };
    this.uploadButton = iconButton(UPLOAD, "Upload trajectory files into the room (or drop them on the view)");
    this.uploadButton.dataset.role = "upload";
    this.uploadButton.onclick = () => this.input.click();
    const download = iconButton(DOWNLOAD, "Download frames as a file");
    download.dataset.role = "download";
    this.buildForm();
    bar.append(this.uploadButton);
    new Popover(download, this.form).mount(bar);
    bar.append(this.input);
    view.append(style, this.list);
    view.addEventListener("dragover", (event) => this.dragOver(event));
    view.addEventListener("dragleave", () => view.classList.remove("zn-dropping"));
    view.addEventListener("drop", (event) => this.drop(event));
    this.accessChanged();
  }

  /** The access changed: only writers may upload. */
  accessChanged(): void {
    this.uploadButton.disabled = this.host.readOnly();
  }

  /** Another room is opened: its jobs replace these. */
  clear(): void {
    this.rows.clear();
    this.sending.clear();
    this.list.replaceChildren();
  }

  /** The room was joined: show the imports still running in it. */
  async joined(): Promise<void> {
    const room = this.host.room();
    let jobs: Job[];
    try {
      jobs = await this.host.data().jobs(room);
    } catch {
      return; // an older server without jobs: nothing to show
    }
    if (room !== this.host.room()) return;
    for (const job of jobs.reverse()) if (jobView(job).running) this.event(job);
  }

  /** A ``job`` event of the room. */
  event(job: Job): void {
    const { markers } = this.host;
    markers.set("job", `${job.state} ${job.frames_done} ${job.bytes_done}`);
    if (job.user === this.host.user()) this.sending.get(job.name)?.remove();
    const view = jobView(job);
    let row = this.rows.get(job.id);
    if (!row) {
      row = document.createElement("div");
      row.className = "zn-job";
      row.dataset.job = job.id;
      this.rows.set(job.id, row);
      this.list.append(row);
    }
    row.dataset.state = job.state;
    const label = span(view.text);
    label.dataset.role = "job-text";
    const parts: HTMLElement[] = [progress(view.fraction, job.name), label];
    if (view.running) {
      const cancel = button("Cancel", `Cancel the import of ${job.name}`);
      cancel.dataset.role = "cancel-job";
      cancel.onclick = () => void this.host.data().cancelJob(job.id).catch((error) => this.show(job.id, `cannot cancel: ${error.message}`));
      parts.push(cancel);
    } else {
      parts.push(this.dismiss(job.id, row));
      if (job.state === "done") setTimeout(() => this.remove(job.id, row), DONE_MS);
    }
    row.replaceChildren(...parts);
  }

  /** Import ``files`` one after the other. */
  uploadAll(files: File[]): void {
    if (this.host.readOnly()) return;
    void files.reduce((previous, file) => previous.then(() => this.upload(file)), Promise.resolve());
  }

  private async upload(file: File): Promise<void> {
    const room = this.host.room();
    const row = document.createElement("div");
    row.className = "zn-job";
    row.dataset.state = "sending";
    row.append(progress(null, file.name), span(`${file.name}: sending…`));
    this.sending.set(file.name, row);
    this.list.append(row);
    try {
      const job = await this.host.data().upload(room, file, file.name);
      row.remove();
      if (room === this.host.room() && !this.rows.has(job.id)) this.event(job);
    } catch (error) {
      row.dataset.state = "failed";
      row.replaceChildren(span(`${file.name} was not uploaded: ${(error as Error).message}`), this.dismiss(file.name, row));
      this.host.markers.set("job", `refused 0 0`);
    } finally {
      if (this.sending.get(file.name) === row) this.sending.delete(file.name);
    }
  }

  /** Files dragged over the view are ours (not the notebook's, nor the browser's to open);
   * a read-only room refuses them. */
  private dragOver(event: DragEvent): void {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    event.stopPropagation();
    const writable = !this.host.readOnly();
    event.dataTransfer.dropEffect = writable ? "copy" : "none";
    this.view.classList.toggle("zn-dropping", writable);
  }

  private drop(event: DragEvent): void {
    this.view.classList.remove("zn-dropping");
    const files = [...(event.dataTransfer?.files ?? [])];
    if (!files.length) return;
    event.preventDefault();
    event.stopPropagation();
    this.uploadAll(files);
  }

  private buildForm(): void {
    this.form.className = "zn-export";
    this.form.dataset.role = "export-form";
    for (const [value, text] of [["frame", "this frame"], ["frames", "frames…"], ["room", "the whole room"]]) {
      this.scope.append(new Option(text, value));
    }
    this.scope.setAttribute("aria-label", "Frames to download");
    this.scope.dataset.role = "export-scope";
    this.index.placeholder = "0:100:2 or 1,5,7";
    this.index.hidden = true;
    this.index.setAttribute("aria-label", "Frames to download, as a list or a slice");
    this.index.dataset.role = "export-index";
    this.scope.onchange = () => (this.index.hidden = this.scope.value !== "frames");
    for (const { format, label } of EXPORT_FORMATS) this.format.append(new Option(label, format));
    this.format.setAttribute("aria-label", "File format");
    this.format.dataset.role = "export-format";
    const go = button("Download", "Download the frames chosen in the format chosen");
    go.dataset.role = "export-go";
    go.onclick = () => void this.download();
    this.formError.className = "zn-export-error";
    this.formError.setAttribute("role", "alert");
    const row = document.createElement("div");
    row.append(this.scope, this.index, this.format, go);
    this.form.append(row, this.formError);
  }

  private scopeChosen(): ExportScope {
    if (this.scope.value === "frame") return { kind: "frame", frame: this.host.frame() };
    if (this.scope.value === "frames") return { kind: "frames", index: this.index.value };
    return { kind: "room" };
  }

  private async download(): Promise<void> {
    const data = this.host.data();
    const room = this.host.room();
    const path = exportPath(data.apiUrl, room, this.format.value, this.scopeChosen());
    this.formError.textContent = "";
    if (path instanceof Error) {
      this.formError.textContent = path.message;
      return;
    }
    this.formError.textContent = "preparing the download…";
    try {
      const { blob, name, frames } = await data.download(path, `${room}.${this.format.value}`);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      this.formError.textContent = "";
      this.host.markers.set("download", `${++this.downloads} ${name} ${frames}`);
    } catch (error) {
      this.formError.textContent = `cannot download: ${(error as Error).message}`;
    }
  }

  private show(id: string, text: string): void {
    const label = this.rows.get(id)?.querySelector("span");
    if (label) label.textContent = text;
  }

  private dismiss(key: string, row: HTMLElement): HTMLButtonElement {
    const b = button("×", "Dismiss");
    b.onclick = () => this.remove(key, row);
    return b;
  }

  private remove(id: string, row: HTMLElement): void {
    row.remove();
    if (this.rows.get(id) === row) this.rows.delete(id);
  }
}

function progress(fraction: number | null, name: string): HTMLProgressElement {
  const bar = document.createElement("progress");
  bar.setAttribute("aria-label", `Progress of ${name}`);
  if (fraction !== null) bar.value = fraction;
  return bar;
}

function span(text: string): HTMLSpanElement {
  const s = document.createElement("span");
  s.textContent = text;
  s.title = text;
  return s;
}


function iconButton(path: string, label: string): HTMLButtonElement {
  const b = button("", label);
  b.innerHTML = `<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="${path}"/></svg>`;
  return b;
}
