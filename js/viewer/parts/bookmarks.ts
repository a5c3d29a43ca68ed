// The room's bookmarks as a small list over the view (top right, under the analysis
// panel's title): a click jumps to the frame and the camera saved; "+" bookmarks what the
// view shows, "×" deletes one (both need write access). Kept current from the join reply
// and `bookmark` events.
import type { Bookmark, BookmarkEvent } from "../../protocol";
import { button } from "../controls";

/** Its CSS: the theme's colours (--zn-*, ../../style.ts). */
const CSS = `
.zn-bookmarks { position: absolute; right: 8px; top: 34px; display: flex; flex-direction: column; align-items: flex-end; gap: 2px;
  max-height: 60%; overflow: auto; font-size: 11px; }
.zn-bookmarks > div { display: flex; gap: 2px; }
.zn-bookmarks button { border: 1px solid var(--zn-border1); border-radius: 3px; padding: 0 5px; cursor: pointer; font: inherit;
  background: var(--zn-bg); color: var(--zn-fg); opacity: 0.85; }
.zn-bookmarks button:hover { opacity: 1; }
`;

export interface BookmarkHost {
  readOnly(): boolean;
  /** Show a bookmark: its frame, and its camera if it has one. */
  jump(name: string, bookmark: Bookmark): void;
  /** Bookmark what the view shows under ``name``. */
  add(name: string): Promise<unknown>;
  remove(name: string): Promise<unknown>;
  failed(error: Error): void;
  /** The list changed: it holds ``count`` bookmarks. */
  changed(count: number): void;
}

export class BookmarkList {
  readonly element = document.createElement("div");
  private entries = new Map<string, Bookmark>();

  constructor(container: HTMLElement, private readonly host: BookmarkHost) {
    const style = document.createElement("style");
    style.textContent = CSS;
    this.element.className = "zn-bookmarks";
    container.append(style, this.element);
    this.render();
  }

  clear(): void {
    this.entries.clear();
    this.render();
  }

  /** The bookmarks of a room just (re)joined. */
  joined(bookmarks: Record<string, Bookmark> | undefined): void {
    this.entries = new Map(Object.entries(bookmarks ?? {}));
    this.render();
  }

  event(event: BookmarkEvent): void {
    if (event.value) this.entries.set(event.key, event.value);
    else this.entries.delete(event.key);
    this.render();
  }

  /** The access changed: the add and delete buttons follow it. */
  render(): void {
    const { host } = this;
    const writable = !host.readOnly();
    const rows: HTMLElement[] = [];
    for (const [name, bookmark] of [...this.entries].sort(([a], [b]) => a.localeCompare(b))) {
      const row = document.createElement("div");
      const go = button(name, `Go to frame ${bookmark.frame}${bookmark.camera ? " and its camera" : ""}`);
      go.dataset.role = "bookmark";
      go.dataset.name = name;
      go.onclick = () => host.jump(name, bookmark);
      row.append(go);
      if (writable) {
        const remove = button("×", `Delete the bookmark "${name}"`);
        remove.onclick = () => void host.remove(name).catch((error) => host.failed(error));
        row.append(remove);
      }
      rows.push(row);
    }
    if (writable) {
      const add = button("+ bookmark", "Bookmark this frame and camera");
      add.dataset.role = "add-bookmark";
      add.onclick = () => void host.add(this.freeName()).catch((error) => host.failed(error));
      rows.push(add);
    }
    this.element.replaceChildren(...rows);
    host.changed(this.entries.size);
  }

  /** "view 1", "view 2", ...: the first name not taken. */
  private freeName(): string {
    let n = this.entries.size + 1;
    while (this.entries.has(`view ${n}`)) n++;
    return `view ${n}`;
  }
}

