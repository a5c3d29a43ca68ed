// Files in and out of a room, DOM-free: what a job's progress shows (from its `job`
// events), and the export request for a choice of frames and format (docs/protocol.md
// "Background jobs" and "Export").
import type { Job } from "./protocol";

/** The formats the download offers (ase names; the first is the default). */
export const EXPORT_FORMATS: ReadonlyArray<{ format: string; label: string }> = [
  { format: "extxyz", label: "extxyz (.xyz)" },
  { format: "traj", label: "ASE traj" },
  { format: "h5md", label: "H5MD (.h5)" },
  { format: "proteindatabank", label: "PDB" },
  { format: "xyz", label: "plain xyz" },
  { format: "cif", label: "CIF" },
];

/** The longest request target the server takes (`server/bounds.py` MAX_URL_BYTES). */
export const MAX_URL_BYTES = 16 * 1024;

/** Which frames to download: the one shown, frames typed as an index, or all of them. */
export type ExportScope = { kind: "frame"; frame: number } | { kind: "frames"; index: string } | { kind: "room" };

/** How a job's progress shows: a fraction for the bar (null: unknown, an indeterminate
 * bar), a line of text, and whether it still runs (can be cancelled). */
export interface JobView {
  fraction: number | null;
  text: string;
  running: boolean;
}

export function jobView(job: Job): JobView {
  const running = job.state === "queued" || job.state === "running";
  const frames = `${job.frames_done} frame${job.frames_done === 1 ? "" : "s"}`;
  const done = job.bytes_total > 0 ? Math.min(1, job.bytes_done / job.bytes_total) : 0;
  // an ended job's bar stands where it stopped; a running one's is unknown until bytes are in
  if (job.state === "done") return { fraction: 1, text: `${job.name}: ${frames} imported`, running };
  if (job.state === "cancelled") return { fraction: done, text: `${job.name}: cancelled after ${frames}`, running };
  if (job.state === "failed") return { fraction: done, text: `${job.name} failed: ${failure(job)}`, running };
  const fraction = done > 0 ? done : null;
  const percent = fraction === null ? "" : ` (${Math.round(fraction * 100)}%)`;
  return { fraction, text: `${job.name}: ${job.state === "queued" ? "waiting" : "importing"}, ${frames}${percent}`, running };
}

/** A failed job's error, with where it happened ("frame 3 (line 57)"). */
export function failure(job: Job): string {
  const error = job.error;
  if (!error) return "unknown error";
  const where: string[] = [];
  if (error.frame !== null && error.frame !== undefined) where.push(`frame ${error.frame}`);
  if (error.line !== null && error.line !== undefined) where.push(`line ${error.line}`);
  const count = job.frames_done;
  const kept = count ? `; the ${count === 1 ? "frame" : `${count} frames`} before it ${count === 1 ? "was" : "were"} kept` : "";
  return `${error.message}${where.length ? ` at ${where.join(", ")}` : ""}${kept}`;
}

/** The ``index`` of an export (undefined: every frame), or an Error saying what is wrong. */
export function exportIndex(scope: ExportScope): string | undefined | Error {
  if (scope.kind === "room") return undefined;
  if (scope.kind === "frame") return scope.frame >= 0 ? String(scope.frame) : new Error("no frame is shown yet");
  const index = scope.index.replace(/\s+/g, "");
  if (!/^(-?\d+(,-?\d+)*|-?\d*:-?\d*(:-?\d*)?)$/.test(index)) {
    return new Error(`"${scope.index}" is not a choice of frames: write a list (1,5,7) or a slice (start:stop:step, e.g. 0:100:2)`);
  }
  return index;
}

/** The path (relative to the API root) of an export, or an Error when the request would be
 * longer than the server takes. */
export function exportPath(apiUrl: string, room: string, format: string, scope: ExportScope): string | Error {
  const index = exportIndex(scope);
  if (index instanceof Error) return index;
  const query = new URLSearchParams({ format });
  if (index !== undefined) query.set("index", index);
  const path = `rooms/${encodeURIComponent(room)}/export?${query}`;
  const target = new URL(apiUrl + path, "http://host/");
  const length = new TextEncoder().encode(target.pathname + target.search).length;
  if (length > MAX_URL_BYTES) {
    const count = index?.split(",").length ?? 0;
    return new Error(`a list of ${count} frames is too long for one download (the server takes ${MAX_URL_BYTES / 1024} KiB of URL): choose a slice (start:stop:step) or the whole room`);
  }
  return path;
}

/** The file name of a download from its ``Content-Disposition`` (else ``fallback``). */
export function attachmentName(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename\*=UTF-8''([^;]+)|filename="([^"]*)"|filename=([^;]+)/i);
  if (!match) return fallback;
  return match[1] ? decodeURIComponent(match[1]) : (match[2] ?? match[3]).trim();
}
