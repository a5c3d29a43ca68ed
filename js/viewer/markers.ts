// The state the viewer shows on its root element as data-zndraw-* attributes (read by the
// Chromium tests, tests/test_widget_e2e.py, and benchmarks/bench_widget.py), and the
// data-role names of the toolbar's controls. The attribute names are part of the tests'
// interface: change them only with the tests.

/** Each marker and the data-zndraw-* attribute it sets (dataset key in brackets). */
export interface MarkerValues {
  /** data-zndraw-status: the viewer's state. */
  status: "loading" | "ok" | "empty" | "error";
  /** data-zndraw-error: the code of a fatal problem (with status "error"). */
  error: string;
  /** data-zndraw-room: the room shown. */
  room: string;
  /** data-zndraw-rendered: the index of the frame last drawn. */
  rendered: number;
  /** data-zndraw-requested: the index asked for (-1: none). */
  requested: number;
  /** data-zndraw-length: the room's number of frames. */
  length: number;
  /** data-zndraw-draws: draws since the start. */
  draws: number;
  /** data-zndraw-atoms: atoms in the frame drawn. */
  atoms: number;
  /** data-zndraw-first-draw-ms: ms from the viewer's creation to its first draw. */
  firstDrawMs: string;
  /** data-zndraw-playing: "true" while playing. */
  playing: boolean;
  /** data-zndraw-fps: frames drawn in the last second of playback. */
  fps: number;
  /** data-zndraw-present: sessions present in the room. */
  present: number;
  /** data-zndraw-locked: the targets leased by other sessions, comma-separated. */
  locked: string;
  /** data-zndraw-control: the control channel's status. */
  control: string;
  /** data-zndraw-edited: the version a drag edit saved. */
  edited: number;
  /** data-zndraw-readonly: "true" while the user may only read the room (absent otherwise). */
  readonly: boolean;
  /** data-zndraw-transport: how the view reaches its room, "http", "comm" or "static" (js/transport.ts). */
  transport: string;
  /** data-zndraw-history: the last undo/redo, "<undo|redo> <outcome> <count>" (outcome: ok
   * or the server's error code; count: undos and redos tried so far). */
  history: string;
  /** data-zndraw-marked: atoms of other people's selections drawn. */
  marked: number;
  /** data-zndraw-bookmarks: the room's bookmarks listed. */
  bookmarks: number;
  /** data-zndraw-bookmark: the bookmark last jumped to. */
  bookmark: string;
  /** data-zndraw-look: the representation drawn and the look's version (changes with the style). */
  look: string;
  /** data-zndraw-job: the last job event seen, "<state> <frames_done> <bytes_done>"
   * ("refused 0 0": an upload the server refused). */
  job: string;
  /** data-zndraw-download: the last download, "<count> <file name> <frames>". */
  download: string;
}

export type Marker = keyof MarkerValues;

const KEYS: { [K in Marker]: string } = {
  status: "zndrawStatus",
  error: "zndrawError",
  room: "zndrawRoom",
  rendered: "zndrawRendered",
  requested: "zndrawRequested",
  length: "zndrawLength",
  draws: "zndrawDraws",
  atoms: "zndrawAtoms",
  firstDrawMs: "zndrawFirstDrawMs",
  playing: "zndrawPlaying",
  fps: "zndrawFps",
  present: "zndrawPresent",
  locked: "zndrawLocked",
  control: "zndrawControl",
  edited: "zndrawEdited",
  readonly: "zndrawReadonly",
  transport: "zndrawTransport",
  history: "zndrawHistory",
  marked: "zndrawMarked",
  bookmarks: "zndrawBookmarks",
  bookmark: "zndrawBookmark",
  look: "zndrawLook",
  job: "zndrawJob",
  download: "zndrawDownload",
};

/** The data-role of each toolbar control the tests click or read. */
export const ROLES = {
  play: "play",
  slider: "slider",
  counter: "counter",
  follow: "follow",
  screenshot: "screenshot",
  representation: "representation",
  labels: "labels",
  orthographic: "orthographic",
  reset: "reset",
  movie: "movie",
  /** The View menu's button (its panel: ``view-menu``). */
  view: "view",
} as const;

/** Typed access to the markers of one root element. */
export class Markers {
  constructor(private readonly root: HTMLElement) {}

  set<K extends Marker>(marker: K, value: MarkerValues[K]): void {
    this.root.dataset[KEYS[marker]] = String(value);
  }

  has(marker: Marker): boolean {
    return this.root.dataset[KEYS[marker]] !== undefined;
  }

  delete(marker: Marker): void {
    delete this.root.dataset[KEYS[marker]];
  }
}
