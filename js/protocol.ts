// The control channel's message vocabulary, typed (docs/protocol.md "Control channel";
// the server side is src/zndraw_widget/server/control.py). Every message is one msgpack map
// with a `type`; this module is the only place the message names are spelled.
import type { RoomInfo } from "./data";

/** A caller's role in a room (docs/protocol.md "Access"); each includes the ones before. */
export type Role = "none" | "read" | "write" | "admin";

/** A lease as the server reports it (`state.base.Lease`). */
export interface Lease {
  room: string;
  /** `order`, `frame:<id>` or `presenter`. */
  target: string;
  /** The holding session. */
  holder: string;
  /** Unix time, seconds. */
  expires: number;
  /** The holding session's user (absent from servers before access control). */
  user?: string | null;
}

/** A session present in a room. */
export interface Present {
  session: string;
  user?: string | null;
}

/** The lease target of the room's presenter token. */
export const PRESENTER = "presenter";
/** The lease target guarding the frame order (inserts and deletes). */
export const ORDER = "order";
/** The lease target guarding one frame's content. */
export function frameTarget(id: string): string {
  return `frame:${id}`;
}

// -- requests (client -> server) ------------------------------------------------------------
export type ControlRequest =
  | { type: "join_room"; room: string }
  | { type: "leave_room"; room: string }
  | { type: "lock_request"; room: string; target: string; ttl?: number }
  | { type: "lock_renew"; room: string; target: string; ttl?: number }
  | { type: "lock_release"; room: string; target: string }
  | { type: "request_presenter_token"; room: string; ttl?: number }
  | { type: "renew_presenter_token"; room: string; ttl?: number }
  | { type: "release_presenter_token"; room: string }
  | { type: "set_room_frame"; room: string; frame: number }
  | { type: "ping" };

export type RequestType = ControlRequest["type"];
/** The request of one type. */
export type RequestOf<T extends RequestType> = Extract<ControlRequest, { type: T }>;

/** Constructors of every request. */
export const requests = {
  joinRoom: (room: string): RequestOf<"join_room"> => ({ type: "join_room", room }),
  leaveRoom: (room: string): RequestOf<"leave_room"> => ({ type: "leave_room", room }),
  lock: (room: string, target: string, ttl?: number): RequestOf<"lock_request"> => ({ type: "lock_request", room, target, ...(ttl === undefined ? {} : { ttl }) }),
  renewLock: (room: string, target: string, ttl?: number): RequestOf<"lock_renew"> => ({ type: "lock_renew", room, target, ...(ttl === undefined ? {} : { ttl }) }),
  releaseLock: (room: string, target: string): RequestOf<"lock_release"> => ({ type: "lock_release", room, target }),
  takePresenter: (room: string, ttl?: number): RequestOf<"request_presenter_token"> => ({ type: "request_presenter_token", room, ...(ttl === undefined ? {} : { ttl }) }),
  renewPresenter: (room: string, ttl?: number): RequestOf<"renew_presenter_token"> => ({ type: "renew_presenter_token", room, ...(ttl === undefined ? {} : { ttl }) }),
  releasePresenter: (room: string): RequestOf<"release_presenter_token"> => ({ type: "release_presenter_token", room }),
  setRoomFrame: (room: string, frame: number): RequestOf<"set_room_frame"> => ({ type: "set_room_frame", room, frame }),
  ping: (): RequestOf<"ping"> => ({ type: "ping" }),
};

/** A bookmark of the room: a frame and, if saved with one, the camera to look from (the
 * view's camera state, a small object of numbers: position, target, up, fov, ...). */
export interface Bookmark {
  frame: number;
  camera: Record<string, number | boolean | number[]> | null;
}

// -- replies (server -> client) -------------------------------------------------------------
export interface JoinReply {
  room: RoomInfo;
  leases: Lease[];
  presence: Present[];
  /** Each user's selection (absent from servers before shared selections). */
  selections?: Record<string, number[]>;
  bookmarks?: Record<string, Bookmark>;
}

/** The body of a successful reply to each request type. */
export interface ReplyBodies {
  join_room: JoinReply;
  leave_room: Record<string, never>;
  lock_request: { lease: Lease };
  lock_renew: { lease: Lease };
  lock_release: { released: boolean };
  request_presenter_token: { lease: Lease };
  renew_presenter_token: { lease: Lease };
  release_presenter_token: { released: boolean };
  set_room_frame: { frame: number };
  ping: { time: number };
}

export type ReplyTo<T extends ControlRequest> = ReplyBodies[T["type"]] & { type: "reply"; id: number; ok: true };

export interface ReplyOk {
  type: "reply";
  id: unknown;
  ok: true;
  [field: string]: unknown;
}

export interface ReplyError {
  type: "reply";
  id: unknown;
  ok: false;
  error: string;
  message?: string;
  /** Details such as `holder` (locked) or `current_version`. */
  [detail: string]: unknown;
}

export interface Hello {
  type: "hello";
  session: string;
  user?: string;
}

// -- room events (server -> client) ---------------------------------------------------------
interface EventBase {
  room: string;
  seq: number;
}
export interface FramesInserted extends EventBase {
  type: "frames_inserted";
  indices: number[];
  ids: string[];
  order_version: number;
  length: number;
}
export interface FramesDeleted extends EventBase {
  type: "frames_deleted";
  indices: number[];
  ids: string[];
  order_version: number;
  length: number;
}
/** One atomic change of any shape: frames updated, then deleted, then inserted. */
export interface FramesSpliced extends EventBase {
  type: "frames_spliced";
  deleted: number[];
  deleted_ids: string[];
  inserted: number[];
  inserted_ids: string[];
  updated: number[];
  updated_ids: string[];
  order_version: number;
  length: number;
}
export interface FrameUpdated extends EventBase {
  type: "frame_updated";
  frame: number;
  id: string;
  version: number;
}
export interface LeaseEvent extends EventBase {
  type: "lease";
  target: string;
  /** null: released (or expired: then `expired` names the former holder). */
  holder: string | null;
  expires?: number | null;
  expired?: string;
  /** The holder's user. */
  user?: string | null;
}
export interface StepEvent extends EventBase {
  type: "step";
  step: number;
  holder: string | null;
}
export interface PresenceEvent extends EventBase {
  type: "presence";
  session: string;
  user?: string | null;
  present: boolean;
}
/** The room's owner or grants changed (the caller's role may have: re-read the room). */
export interface AccessEvent extends EventBase {
  type: "access";
  owner: string | null;
  grants: Record<string, Role>;
}
export interface RoomDeleted extends EventBase {
  type: "room_deleted";
}
/** A user's selection changed (``key``: the user; null: cleared away). */
export interface SelectionEvent extends EventBase {
  type: "selection";
  key: string;
  value: number[] | null;
}
/** A bookmark was set (``key``: its name) or deleted (``value`` null). */
export interface BookmarkEvent extends EventBase {
  type: "bookmark";
  key: string;
  value: Bookmark | null;
}

/** A background job (docs/protocol.md "Background jobs"): an import of a file into a room. */
export interface Job {
  id: string;
  kind: "import";
  room: string;
  user: string;
  state: "queued" | "running" | "done" | "failed" | "cancelled";
  name: string;
  /** The ase format (null: guessed from the name). */
  format: string | null;
  /** The file's size (0 while a chunked upload is still arriving). */
  bytes_total: number;
  /** Bytes parsed and committed (0 until done for formats not split by bytes). */
  bytes_done: number;
  frames_done: number;
  /** What went wrong and where (``frame``: its index in the file, ``line``: 1-based). */
  error: { message: string; frame: number | null; line: number | null } | null;
  created: number;
  updated: number;
}
/** A job of the room changed state or made progress. */
export interface JobEvent extends EventBase {
  type: "job";
  job: Job;
}

/** Events that bump the room's seq by one (and can be re-read with `events?since=`). */
export type DataEvent = FramesInserted | FramesDeleted | FramesSpliced | FrameUpdated;
export type RoomEvent = DataEvent | LeaseEvent | StepEvent | PresenceEvent | AccessEvent | RoomDeleted | SelectionEvent | BookmarkEvent | JobEvent;

export const DATA_EVENTS: ReadonlySet<string> = new Set<DataEvent["type"]>([
  "frames_inserted",
  "frames_deleted",
  "frames_spliced",
  "frame_updated",
]);

export function isDataEvent(event: RoomEvent): event is DataEvent {
  return DATA_EVENTS.has(event.type);
}

/** A refusal of a request sent without waiting for its reply (`notify`). */
export type ErrorEvent = Omit<ReplyError, "type"> & { type: "error" };

/** What the control client passes on: room events and refusals of notifications. */
export type ControlEvent = RoomEvent | ErrorEvent;

export type ServerMessage = Hello | ReplyOk | ReplyError | RoomEvent;
