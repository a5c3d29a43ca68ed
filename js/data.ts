// The HTTP data channel: room metadata as JSON, frames as msgpack (docs/protocol.md).
import { decode, encode, NDArray } from "./codec";
import { Frame, framesOf, ReadResponse } from "./frames";
import { attachmentName } from "./jobs";
import type { DataEvent, Job, Lease, Role } from "./protocol";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Auth {
  /** ``Authorization: token <t>`` (standalone server); absent: cookies + XSRF (Jupyter). */
  token?: string;
  /** The XSRF token to send as ``X-XSRFToken`` (Jupyter's ``_xsrf`` cookie). */
  xsrf?: () => string | undefined;
}

export interface DataClientOptions {
  /** The API root, ending in ``zndraw/api/``. */
  apiUrl: string;
  session: string;
  auth?: Auth;
  fetch?: typeof fetch;
}

export interface RoomInfo {
  name: string;
  length: number;
  seq: number;
  order_version: number;
  step: number | null;
  created?: number;
  leases?: Lease[];
  /** The room's owner (null: an open room from before owners existed; absent: a server
   * without access control). */
  owner?: string | null;
  /** The caller's role in the room (absent: a server without access control). */
  role?: Role;
}

/** A room's access (``GET``/``PUT rooms/<room>/access``): grants map ``user:<name>``,
 * ``group:<name>`` or ``*`` to a role. */
export interface Access {
  owner: string | null;
  grants: Record<string, Exclude<Role, "none">>;
  /** The caller's role (answers only). */
  role?: Role;
}

/** What one field of a room holds: numbers of ``dtype`` (null: plain values) of at most
 * ``shape`` per frame (``[]``: one number per frame). */
export interface FieldInfo {
  dtype: string | null;
  shape: number[];
}

/** ``GET rooms/<room>/fields``. */
export interface RoomFields {
  length: number;
  seq: number;
  fields: Record<string, FieldInfo>;
}

export interface EventsSince {
  seq: number;
  reload: boolean;
  events: DataEvent[];
}

export interface FramesRead {
  length: number;
  seq: number;
  orderVersion: number;
  frames: Frame[];
}

/** The ``_xsrf`` cookie of the page (Jupyter sets it; sent back as ``X-XSRFToken``). */
export function xsrfFromCookie(cookie: string = typeof document !== "undefined" ? document.cookie : ""): string | undefined {
  const match = cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : undefined;
}

export class DataClient {
  readonly apiUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: DataClientOptions) {
    this.apiUrl = options.apiUrl.endsWith("/") ? options.apiUrl : options.apiUrl + "/";
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { "X-ZnDraw-Session": this.options.session, ...extra };
    const auth = this.options.auth ?? {};
    if (auth.token) headers.Authorization = `token ${auth.token}`;
    const xsrf = auth.xsrf?.();
    // Jupyter wants it on writes; under JupyterHub on fetch GETs too: always send it.
    if (xsrf) headers["X-XSRFToken"] = xsrf;
    return headers;
  }

  roomPath(room: string): string {
    return `rooms/${encodeURIComponent(room)}`;
  }

  async request(method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.apiUrl + path, {
        method,
        body,
        headers: this.headers(headers),
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error; // the caller gave up on it
      throw new ApiError(0, "network", `cannot reach the zndraw server at ${this.apiUrl}: ${(error as Error).message}`);
    }
    if (!response.ok) throw await errorOf(response, this.apiUrl);
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { "Content-Type": "application/json" },
    );
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  health(): Promise<{ status: string; version: string }> {
    return this.json("GET", "health");
  }

  roomInfo(room: string): Promise<RoomInfo> {
    return this.json("GET", this.roomPath(room));
  }

  access(room: string): Promise<Access> {
    return this.json("GET", `${this.roomPath(room)}/access`);
  }

  /** Replace the room's grants (and its owner, if given); the new access. */
  setAccess(room: string, access: { owner?: string | null; grants: Access["grants"] }): Promise<Access> {
    return this.json("PUT", `${this.roomPath(room)}/access`, access);
  }

  events(room: string, since: number): Promise<EventsSince> {
    return this.json("GET", `${this.roomPath(room)}/events?since=${since}`);
  }

  /** The fields the room's frames carry, with dtype and per-frame shape. */
  fields(room: string): Promise<RoomFields> {
    return this.json("GET", `${this.roomPath(room)}/fields`);
  }

  /** The read of frames ``index`` (``5``, ``0:16``, ``1,5,7``) with only ``fields``, as
   * the server's columns (``frames`` splits it into frames). */
  async read(room: string, index: string, fields?: string[], signal?: AbortSignal): Promise<ReadResponse> {
    let path = `${this.roomPath(room)}/frames?index=${encodeURIComponent(index)}`;
    if (fields && fields.length) path += `&data=${fields.map(encodeURIComponent).join(",")}`;
    const response = await this.request("GET", path, undefined, {}, signal);
    return decode(await response.arrayBuffer()) as ReadResponse;
  }

  /** Frames ``index`` (``5``, ``0:16``, ``1,5,7``) with only ``fields``. */
  async frames(room: string, index: string, fields?: string[], signal?: AbortSignal): Promise<FramesRead> {
    const read = await this.read(room, index, fields, signal);
    return { length: read.length, seq: read.seq, orderVersion: read.order_version, frames: framesOf(read) };
  }

  /** Reverse (``undo``) or re-apply (``redo``) this session's last change in the room. */
  replay(room: string, action: "undo" | "redo"): Promise<{ seq: number; order_version: number }> {
    return this.json("POST", `${this.roomPath(room)}/${action}`);
  }

  /** Upload ``file`` into the room as a background import (the browser streams the body);
   * the job, answered once the whole file is sent. */
  async upload(room: string, file: Blob, name: string, format?: string): Promise<Job> {
    const query = new URLSearchParams({ name });
    if (format) query.set("format", format);
    const response = await this.request("POST", `${this.roomPath(room)}/files?${query}`, file, {
      "Content-Type": "application/octet-stream",
    });
    return ((await response.json()) as { job: Job }).job;
  }

  /** The recent jobs of ``room``, newest first. */
  async jobs(room: string): Promise<Job[]> {
    return (await this.json<{ jobs: Job[] }>("GET", `jobs?room=${encodeURIComponent(room)}`)).jobs;
  }

  /** Cancel a job; the job once it stopped. */
  cancelJob(id: string): Promise<Job> {
    return this.json("DELETE", `jobs/${encodeURIComponent(id)}`);
  }

  /** GET ``path`` (an export, see jobs.ts ``exportPath``) as a file: its bytes and the name
   * the server gives it. */
  async download(path: string, fallback: string): Promise<{ blob: Blob; name: string; frames: number }> {
    const response = await this.request("GET", path);
    const name = attachmentName(response.headers.get("Content-Disposition"), fallback);
    return { blob: await response.blob(), name, frames: Number(response.headers.get("X-ZnDraw-Frames") ?? NaN) };
  }

  /** Replace only the positions of frame ``index`` (a PATCH with a batch of one). */
  patchPositions(room: string, index: number, baseVersion: number, positions: Float64Array | Float32Array): Promise<{ seq: number; version: number }> {
    const n = positions.length / 3;
    const body = encode({ data: { positions: { values: new NDArray(positions instanceof Float32Array ? "<f4" : "<f8", [1, n, 3], positions) } } });
    return this.request("PATCH", `${this.roomPath(room)}/frames/${index}?base_version=${baseVersion}`, body, {
      "Content-Type": "application/msgpack",
    }).then((r) => r.json());
  }
}

async function errorOf(response: Response, apiUrl: string): Promise<ApiError> {
  let payload: Record<string, unknown> | null = null;
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json")) {
    try {
      payload = (await response.json()) as Record<string, unknown>;
    } catch {
      payload = null;
    }
  }
  const status = response.status;
  if (payload && typeof payload.error === "string") {
    const { error, message, ...details } = payload;
    return new ApiError(status, error as string, String(message ?? error), details);
  }
  if (status === 401 || status === 403) {
    return new ApiError(status, "forbidden", `the server refused the credentials (${status}): reload the page or log in again`);
  }
  if (status === 404) {
    return new ApiError(404, "extension_missing", `no zndraw API at ${apiUrl}: is the zndraw_widget server extension installed and enabled (jupyter server extension list)?`);
  }
  return new ApiError(status, "http_error", `the server answered ${status} ${response.statusText}`);
}
