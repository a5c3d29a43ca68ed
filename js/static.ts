// A saved page (``Viewer.save_html``): the frames travel inside the page as one read
// response (today's msgpack) and a third transport answers the viewer's reads from it, with
// no server and no kernel. Writes are refused, saying why.
import { decode, encode } from "@msgpack/msgpack";
import type { SocketLike } from "./control";
import { DataClient } from "./data";
import type { RoomInfo } from "./data";
import type { Transport } from "./transport";

/** The API root the page's reads are written against. */
const PAGE_API = "page:/zndraw/api/";
const REFUSED = { error: "read_only", message: "this is a saved page: change the frames in the notebook and save it again" };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** The transport of a page holding ``read`` (a read response of every frame) as ``room``. */
export function staticTransport(room: string, read: Uint8Array, session: string): Transport {
  const { length } = decode(read) as { length: number };
  const info: RoomInfo = { name: room, length, seq: 0, order_version: 0, step: 0, leases: [] };
  const body = read.slice().buffer as ArrayBuffer;
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const path = String(input).slice(PAGE_API.length).split("?")[0];
    if ((init.method ?? "GET") !== "GET") return json(REFUSED, 403);
    if (path === "health") return json({ status: "ok", version: "page" });
    const prefix = `rooms/${encodeURIComponent(room)}`;
    if (path === prefix) return json(info);
    if (path === `${prefix}/frames`) return new Response(body, { headers: { "Content-Type": "application/msgpack" } });
    if (path === `${prefix}/events`) return json({ seq: 0, reload: false, events: [] });
    if (path === `${prefix}/access`) return json({ owner: null, grants: {} });
    return json({ error: "not_found", message: `a saved page has only room "${room}"` }, 404);
  };
  return {
    kind: "static",
    reason: "a saved page: no server, no kernel",
    data: new DataClient({ apiUrl: PAGE_API, session, fetch }),
    controlUrl: `${PAGE_API}ws`,
    socket: () => new PageSocket(session, info),
  };
}

/** A control channel that answers in the page: joins and pings; locks (edits) and the
 * presenter token are refused. */
class PageSocket implements SocketLike {
  binaryType = "arraybuffer";
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;

  constructor(private readonly session: string, private readonly info: RoomInfo) {
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
      this.answer({ type: "hello", session, user: "" });
    });
  }

  private answer(message: Record<string, unknown>): void {
    queueMicrotask(() => this.onmessage?.({ data: encode(message) }));
  }

  send(data: Uint8Array): void {
    const request = decode(data) as { type: string; id?: number };
    if (request.id === undefined) return;
    const reply = { type: "reply", id: request.id };
    switch (request.type) {
      case "join_room":
        return this.answer({ ...reply, ok: true, room: this.info, leases: [], presence: [] });
      case "ping":
        return this.answer({ ...reply, ok: true, time: Date.now() / 1000 });
      default: // locks and the presenter token: nobody else is there to follow
        return this.answer({ ...reply, ok: false, ...REFUSED });
    }
  }

  close(): void {
    this.readyState = 3;
  }
}
