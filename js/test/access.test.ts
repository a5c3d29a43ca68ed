// Read-only rooms: the role from the join reply and again after an access event (the
// control client on a fake socket), the drag tool and its refusals, and the room list's
// share forms (read-modify-write of the room's access over a fake fetch).
import { describe, expect, it } from "vitest";
import { ControlClient } from "../control";
import { DataClient, RoomInfo } from "../data";
import type { ControlEvent } from "../protocol";
import type { Renderer } from "../renderer";
import { describeGrants, grantKey, share, withGrant } from "../share";
import { RoomAccess } from "../viewer/access";
import { DragEditTool, EditHost } from "../viewer/tools/drag-edit";
import type { PointerInput } from "../viewer/tools/tool";
import { FakeSocket } from "./fake-socket";

const info = (role: RoomInfo["role"], owner: string | null = "ann") => ({ name: "r", length: 1, seq: 0, order_version: 0, step: 0, owner, role });

/** A room access whose re-reads answer ``reread.next``, on a control client whose access
 * events reach it (as RoomLink routes them). */
async function accessOverSocket() {
  const reread = { next: info("write") as Partial<RoomInfo>, reads: 0, changes: 0, failures: [] as unknown[] };
  const access = new RoomAccess({
    reread: async () => (reread.reads++, reread.next),
    changed: () => reread.changes++,
    failed: (error) => reread.failures.push(error),
  });
  let rereading: Promise<void> = Promise.resolve();
  FakeSocket.all = [];
  const control = new ControlClient({
    url: "ws://h/zndraw/api/ws?session=me",
    socket: (url) => new FakeSocket(url),
    onEvent: (event: ControlEvent) => {
      if (event.type === "access") rereading = access.changedOnServer();
    },
  });
  const ready = control.connect();
  const socket = FakeSocket.all[0];
  socket.accept("me");
  await ready;
  return { access, control, socket, reread, rereading: () => rereading };
}

describe("RoomAccess", () => {
  it("is read-only with the join reply's role read, naming the owner, until an access event grants write", async () => {
    const { access, control, socket, reread, rereading } = await accessOverSocket();
    const joining = control.join("r");
    socket.reply(true, { room: info("read"), leases: [], presence: [] });
    access.update((await joining).room);
    expect(access.readOnly).toBe(true);
    expect(access.note).toBe("read-only: ann may give you write access");
    expect(reread.changes).toBe(1);
    socket.push({ type: "access", room: "r", seq: 0, owner: "ann", grants: { "user:me": "write" } });
    await rereading();
    expect(reread.reads).toBe(1);
    expect(access.readOnly).toBe(false);
    expect(access.note).toBeNull();
    expect(reread.changes).toBe(2);
  });

  it("may write when the server does not say (before access control) and in open rooms", () => {
    const access = new RoomAccess({ reread: async () => ({}), changed: () => {}, failed: () => {} });
    access.update({}); // a room info without owner and role
    expect(access.readOnly).toBe(false);
    access.update(info("write", null));
    expect(access.readOnly).toBe(false);
    access.update(info("admin"));
    expect(access.note).toBeNull();
  });

  it("reports a failed re-read (the room no longer readable), and ignores one for a room left", async () => {
    const failures: unknown[] = [];
    const access = new RoomAccess({ reread: () => Promise.reject(new Error("gone")), changed: () => {}, failed: (error) => failures.push(error) });
    await access.changedOnServer();
    expect(failures).toEqual([new Error("gone")]);
    let answer!: (value: Partial<RoomInfo>) => void;
    const late = new RoomAccess({ reread: () => new Promise((resolve) => (answer = resolve)), changed: () => {}, failed: () => {} });
    const pending = late.changedOnServer();
    late.clear(); // another room opened meanwhile
    answer(info("read"));
    await pending;
    expect(late.readOnly).toBe(false);
  });
});

describe("DragEditTool", () => {
  function tool(readOnly: boolean) {
    const picks: number[] = [];
    const renderer = { pick: () => (picks.push(1), 0) } as unknown as Renderer;
    const host = { renderer, selection: () => [0], frame: () => null, readOnly: () => readOnly } as unknown as EditHost;
    return { tool: new DragEditTool(host), picks };
  }
  const press = { x: 1, y: 1, extend: false, rotate: false, event: {} as PointerEvent } satisfies PointerInput;

  it("takes no press on a selected atom in a read-only room (so asks no lease)", () => {
    const readOnly = tool(true);
    expect(readOnly.tool.down(press)).toBe(false);
    expect(readOnly.picks).toHaveLength(0);
    const writable = tool(false);
    writable.tool.down(press); // no frame shown: still declined, but only after picking
    expect(writable.picks).toHaveLength(1);
  });
});

describe("share", () => {
  it("makes grant keys and changes one grant", () => {
    expect(grantKey("user", " ben ")).toBe("user:ben");
    expect(grantKey("group", "lab")).toBe("group:lab");
    expect(grantKey("everyone", "")).toBe("*");
    expect(grantKey("user", " ")).toBeNull();
    expect(grantKey("robot", "x")).toBeNull();
    expect(withGrant({ "*": "read" }, "user:ben", "write")).toEqual({ "*": "read", "user:ben": "write" });
    expect(withGrant({ "*": "read", "user:ben": "write" }, "user:ben", null)).toEqual({ "*": "read" });
    expect(describeGrants({})).toBe("not shared");
    expect(describeGrants({ "user:ben": "write", "*": "read" })).toBe("shared with everyone (read), user:ben (write)");
  });

  it("reads the room's access, changes one grant and puts it back, with the session header", async () => {
    const calls: { method: string; url: string; body?: unknown; session?: string }[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      const headers = init.headers as Record<string, string>;
      calls.push({ method: init.method!, url, body: init.body ? JSON.parse(String(init.body)) : undefined, session: headers["X-ZnDraw-Session"] });
      const access = init.method === "GET" ? { owner: "ann", grants: { "group:lab": "read" }, role: "admin" } : { owner: "ann", ...JSON.parse(String(init.body)), role: "admin" };
      return new Response(JSON.stringify(access), { status: 200, headers: { "Content-Type": "application/json" } });
    }) as typeof globalThis.fetch;
    const data = new DataClient({ apiUrl: "http://h/zndraw/api/", session: "page-1", fetch });
    const access = await share(data, "a room", "user:ben", "write");
    expect(access.grants).toEqual({ "group:lab": "read", "user:ben": "write" });
    expect(calls.map((c) => [c.method, c.url, c.session])).toEqual([
      ["GET", "http://h/zndraw/api/rooms/a%20room/access", "page-1"],
      ["PUT", "http://h/zndraw/api/rooms/a%20room/access", "page-1"],
    ]);
    expect(calls[1].body).toEqual({ grants: { "group:lab": "read", "user:ben": "write" } });
    await share(data, "a room", "group:lab", null);
    expect(calls[3].body).toEqual({ grants: {} });
  });
});
