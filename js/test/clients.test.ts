import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { encode, NDArray } from "../codec";
import { ControlClient, ControlError } from "../control";
import { ApiError, DataClient, xsrfFromCookie } from "../data";
import { apiUrlOf, websocketUrl } from "../env";
import { FrameStore } from "../store";
import { Navigator } from "../viewer/navigator";
import type { FrameUpdated, FramesInserted, FramesSpliced } from "../protocol";
import { RoomSync } from "../sync";
import { FakeSocket } from "./fake-socket";

// -- a fake server for the data channel ---------------------------------------------------
function readBody(length: number, indices: number[], atoms = 3) {
  const n = indices.length;
  return encode({
    length, seq: 7, order_version: 1,
    indices: new NDArray("<i8", [n], BigInt64Array.from(indices, BigInt)),
    ids: indices.map((i) => `id${i}`),
    versions: new NDArray("<i8", [n], BigInt64Array.from(indices, () => 1n)),
    hashes: indices.map(() => "sha256:0"),
    data: {
      positions: { values: new NDArray("<f8", [n, atoms, 3], Float64Array.from({ length: n * atoms * 3 }, (_, k) => Math.floor(k / (atoms * 3)) + indices[0])) },
      numbers: { values: new NDArray("<i8", [n, atoms], BigInt64Array.from({ length: n * atoms }, () => 6n)) },
    },
  });
}

function updated(frame: number, version: number, seq: number): FrameUpdated {
  return { type: "frame_updated", room: "r", seq, frame, id: `id${frame}`, version };
}

function inserted(length: number, seq: number): FramesInserted {
  return { type: "frames_inserted", room: "r", seq, indices: [length - 1], ids: [`id${length - 1}`], order_version: 2, length };
}

type Call = { url: string; init: RequestInit };

function fakeFetch(handler: (url: string, init: RequestInit) => Response) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return handler(String(url), init ?? {});
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

function rangeOf(url: string, length: number): number[] {
  const index = new URL(url).searchParams.get("index")!;
  if (!index.includes(":")) return [Number(index)];
  const [a, b] = index.split(":").map(Number);
  return Array.from({ length: Math.min(b, length) - a }, (_, k) => a + k);
}

describe("DataClient", () => {
  it("sends the session, the XSRF token and cookies; reads frames with a field list", async () => {
    const { fetch, calls } = fakeFetch((url) => new Response(readBody(10, rangeOf(url, 10)), { headers: { "Content-Type": "application/msgpack" } }));
    const client = new DataClient({ apiUrl: "http://h/base/zndraw/api/", session: "s1", auth: { xsrf: () => "tok" }, fetch });
    const read = await client.frames("my room", "0:4", ["positions", "numbers"]);
    expect(calls[0].url).toBe("http://h/base/zndraw/api/rooms/my%20room/frames?index=0%3A4&data=positions,numbers");
    const headers = calls[0].init.headers as Record<string, string>;
    expect(headers["X-ZnDraw-Session"]).toBe("s1");
    expect(headers["X-XSRFToken"]).toBe("tok");
    expect(calls[0].init.credentials).toBe("same-origin");
    expect(read.frames.map((f) => f.index)).toEqual([0, 1, 2, 3]);
    expect(read.frames[2].positions[0]).toBe(2);
    expect(read.frames[0].numbers).toBeInstanceOf(Uint8Array);
  });

  it("turns JSON errors, bare 403/404 and network failures into clear ApiErrors", async () => {
    const responses: Array<() => Response> = [
      () => new Response(JSON.stringify({ error: "not_found", message: "room 'x' does not exist" }), { status: 404, headers: { "Content-Type": "application/json" } }),
      () => new Response("<html>", { status: 404, headers: { "Content-Type": "text/html" } }),
      () => new Response("", { status: 403 }),
      () => new Response(JSON.stringify({ error: "conflict", message: "changed", current_version: 4 }), { status: 409, headers: { "Content-Type": "application/json" } }),
    ];
    let k = 0;
    const { fetch } = fakeFetch(() => responses[k++]());
    const client = new DataClient({ apiUrl: "http://h/zndraw/api/", session: "s", fetch });
    await expect(client.roomInfo("x")).rejects.toMatchObject({ status: 404, code: "not_found" });
    await expect(client.roomInfo("x")).rejects.toMatchObject({ code: "extension_missing" });
    await expect(client.roomInfo("x")).rejects.toMatchObject({ status: 403, code: "forbidden" });
    const conflict = await client.patchPositions("x", 0, 3, new Float64Array(3)).catch((e) => e);
    expect(conflict).toBeInstanceOf(ApiError);
    expect(conflict.details.current_version).toBe(4);
    const offline = new DataClient({ apiUrl: "http://h/zndraw/api/", session: "s", fetch: (async () => { throw new TypeError("Failed to fetch"); }) as any });
    await expect(offline.health()).rejects.toMatchObject({ code: "network" });
  });

  it("PATCHes positions as a msgpack batch of one with base_version", async () => {
    const { fetch, calls } = fakeFetch(() => new Response(JSON.stringify({ seq: 3, version: 2 }), { headers: { "Content-Type": "application/json" } }));
    const client = new DataClient({ apiUrl: "http://h/zndraw/api/", session: "s", auth: { token: "abc" }, fetch });
    expect(await client.patchPositions("r", 5, 1, new Float64Array([1, 2, 3]))).toEqual({ seq: 3, version: 2 });
    expect(calls[0].url).toBe("http://h/zndraw/api/rooms/r/frames/5?base_version=1");
    expect(calls[0].init.method).toBe("PATCH");
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe("token abc");
  });

  it("finds the XSRF cookie and the API URLs", () => {
    expect(xsrfFromCookie("a=1; _xsrf=2%7Cabc; b=3")).toBe("2|abc");
    expect(xsrfFromCookie("a=1")).toBeUndefined();
    expect(apiUrlOf("http://x:8765/")).toBe("http://x:8765/zndraw/api/");
    expect(apiUrlOf("http://x:8765/zndraw/api")).toBe("http://x:8765/zndraw/api/");
    expect(websocketUrl("https://h/user/a/zndraw/api/", "s1")).toBe("wss://h/user/a/zndraw/api/ws?session=s1");
  });
});

describe("FrameStore", () => {
  it("reads one frame per jump, chunks ahead, and drops frames that changed", async () => {
    const { fetch, calls } = fakeFetch((url) => new Response(readBody(100, rangeOf(url, 100))));
    const store = new FrameStore(new DataClient({ apiUrl: "http://h/zndraw/api/", session: "s", fetch }), "r");
    store.length = 100;
    const first = await store.load(0);
    expect(first.index).toBe(0);
    expect(calls).toHaveLength(1);
    // a jump reads the frame asked for alone, small as it is
    await store.load(5);
    expect(calls).toHaveLength(2);
    expect(calls[1].url).toContain("index=5&");
    expect(store.has(5 + 1)).toBe(false);
    // small frames: reads ahead are whole chunks, which playback joins
    const chunk = store.chunkSize();
    expect(chunk).toBeGreaterThan(1);
    store.prefetch(5, 40);
    expect(store.loading(6)).toBe(true);
    expect(store.loading(6, false)).toBe(false);
    expect((await store.load(6, undefined, true)).index).toBe(6);
    expect(calls).toHaveLength(3);
    expect(calls[2].url).toContain(`index=0%3A${chunk}&`);
    store.prefetch(5, 40);
    await vi.waitFor(() => expect(store.has(chunk)).toBe(true));
    const changed = store.apply([updated(5, 2, 8)]);
    expect([...changed!]).toEqual([5]);
    expect(store.has(5)).toBe(false);
    expect(store.apply([inserted(101, 9)])).toBeNull();
    expect(store.length).toBe(101);
    expect(store.has(0)).toBe(false);
    await store.load(0);
    const spliced: FramesSpliced = {
      type: "frames_spliced", room: "r", seq: 10, deleted: [3], deleted_ids: ["id3"], inserted: [],
      inserted_ids: [], updated: [0], updated_ids: ["id0"], order_version: 3, length: 100,
    };
    expect(store.apply([spliced])).toBeNull(); // one change of any shape: everything re-read
    expect(store.length).toBe(100);
    expect(store.has(0)).toBe(false);
  });
});

describe("FrameStore preload", () => {
  /** A server whose answers wait until the test lets them go: how many reads are in flight. */
  function heldServer(length: number) {
    const held: Array<{ url: string; answer: () => void; fail: () => void }> = [];
    const urls: string[] = [];
    const fetch = vi.fn((url: RequestInfo | URL) => new Promise<Response>((resolve, reject) => {
      urls.push(String(url));
      held.push({
        url: String(url),
        answer: () => resolve(new Response(readBody(length, rangeOf(String(url), length)))),
        fail: () => reject(new TypeError("network error")),
      });
    })) as unknown as typeof globalThis.fetch;
    /** Answer the read in flight (there must be exactly one); once ``store`` has its frames,
     * let it go on (it yields to the reader once before its next read). */
    const answer = async (store: FrameStore) => {
      expect(held).toHaveLength(1);
      const read = held.shift()!;
      read.answer();
      await vi.waitFor(() => expect(rangeOf(read.url, length).every((i) => store.has(i))).toBe(true));
      await new Promise((resolve) => setTimeout(resolve));
    };
    return { fetch, held, urls, answer };
  }

  const storeOn = (fetch: typeof globalThis.fetch, options = {}) =>
    new FrameStore(new DataClient({ apiUrl: "http://h/zndraw/api/", session: "s", fetch }), "r", { maxChunk: 4, ...options });

  /** A store of a 10-frame room on a held server, with its first frame read (on screen). */
  async function firstShown(options = {}) {
    const server = heldServer(10);
    const store = storeOn(server.fetch, options);
    store.length = 10;
    const first = store.load(0);
    await server.answer(store);
    await first;
    return { server, store };
  }

  it("reads a small room whole after the first frame, one chunk at a time, after other reads", async () => {
    const { server, store } = await firstShown();
    expect(server.held).toHaveLength(0); // nothing read before the first frame is shown
    // a jump's read in flight when the preload starts: the preload waits for it
    const jump = store.load(7);
    store.preload();
    expect(server.urls).toHaveLength(2);
    await server.answer(store);
    await jump;
    const ranges: string[] = [];
    while (server.held.length) {
      ranges.push(new URL(server.held[0].url).searchParams.get("index")!);
      await server.answer(store);
    }
    expect(ranges).toEqual(["0:4", "4:8", "8:10"]);
    for (let i = 0; i < 10; i++) expect(store.has(i)).toBe(true);
    const reads = server.urls.length;
    // a frame changed: dropped, and read again in the background
    store.apply([updated(5, 2, 8)]);
    expect(store.has(5)).toBe(false);
    await vi.waitFor(() => expect(server.held).toHaveLength(1));
    expect(new URL(server.held[0].url).searchParams.get("index")).toBe("4:8");
    await server.answer(store);
    expect(store.has(5)).toBe(true);
    expect(server.urls).toHaveLength(reads + 1);
    // the order changed: everything forgotten, and read again once a read brings frames
    store.apply([inserted(10, 9)]);
    const again = store.load(2);
    await server.answer(store);
    await again;
    while (server.held.length) await server.answer(store);
    for (let i = 0; i < 10; i++) expect(store.has(i)).toBe(true);
  });

  it("waits for a read a change made stale: never reads beside the reader's own reads", async () => {
    const { server, store } = await firstShown();
    const jump = store.load(7);
    store.preload();
    store.apply([updated(3, 2, 8)]); // the jump's read brings a stale frame 7: read again
    await new Promise((resolve) => setTimeout(resolve));
    expect(server.held).toHaveLength(1); // the preload waits for the stale read too
    server.held.shift()!.answer(); // its frames are dropped
    await vi.waitFor(() => expect(server.held).toHaveLength(1));
    expect(new URL(server.held[0].url).searchParams.get("index")).toBe("7"); // the jump's again, alone
    await server.answer(store);
    expect((await jump).index).toBe(7);
    while (server.held.length) await server.answer(store);
    for (let i = 0; i < 10; i++) expect(store.has(i)).toBe(true);
  });

  it("goes on when a read a change made stale fails", async () => {
    const { server, store } = await firstShown();
    const jump = store.load(7).catch((error: unknown) => error);
    store.preload();
    store.apply([updated(3, 2, 8)]);
    await new Promise((resolve) => setTimeout(resolve)); // the preload waits for the stale read
    server.held.shift()!.fail(); // which fails: the jump with it
    expect(String(await jump)).toContain("cannot reach the zndraw server");
    await vi.waitFor(() => expect(server.held).toHaveLength(1)); // the preload reads on
    while (server.held.length) await server.answer(store);
    for (let i = 0; i < 10; i++) expect(store.has(i)).toBe(true);
  });

  it("hands each frame it read to onPreloaded, one per task", async () => {
    const { server, store } = await firstShown();
    const prepared: number[] = [];
    store.onPreloaded = (frame) => prepared.push(frame.index);
    store.preload();
    while (server.held.length) await server.answer(store);
    await vi.waitFor(() => expect(prepared).toHaveLength(10));
    expect(prepared.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("stops reading and preparing once disposed", async () => {
    const { server, store } = await firstShown();
    const prepared: number[] = [];
    store.onPreloaded = (frame) => prepared.push(frame.index);
    store.preload();
    expect(server.held).toHaveLength(1);
    store.dispose();
    server.held.shift()!.answer();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.held).toHaveLength(0); // no next chunk
    expect(prepared).toEqual([]);
  });

  it("is started by the navigator once a frame is on screen", async () => {
    const server = heldServer(10);
    const store = storeOn(server.fetch);
    store.length = 10;
    const nav = new Navigator({
      draw: () => true, flush: () => undefined, requested: () => undefined, shown: () => undefined,
      playing: () => false, failed: () => undefined, disposed: () => false,
    });
    nav.store = store;
    nav.go(0);
    // frame 0 alone, and the prefetch of the next (one by one: no frame size known yet)
    expect(server.held.map((h) => new URL(h.url).searchParams.get("index"))).toEqual(["0", "1"]);
    server.held.shift()!.answer();
    await vi.waitFor(() => expect(nav.displayed).toBe(0));
    while (server.held.length) await server.answer(store);
    for (let i = 0; i < 10; i++) expect(store.has(i)).toBe(true);
  });

  it("leaves a room bigger than its share of the cache to playback and jumps", async () => {
    const { server, store } = await firstShown({ preloadBytes: 1 });
    store.preload();
    await new Promise((resolve) => setTimeout(resolve));
    expect(server.urls).toHaveLength(1);
    expect(store.small()).toBe(false);
  });
});

describe("FrameStore races", () => {
  it("reads again when a change event drops a read in flight", async () => {
    let store: FrameStore;
    let first = true;
    const { fetch, calls } = fakeFetch((url) => {
      if (first) {
        first = false;
        store.apply([updated(0, 2, 2)]);
      }
      return new Response(readBody(3, rangeOf(url, 3)));
    });
    store = new FrameStore(new DataClient({ apiUrl: "http://h/zndraw/api/", session: "s", fetch }), "r");
    store.length = 3;
    expect((await store.load(0)).index).toBe(0);
    expect(calls).toHaveLength(2);
  });
});

describe("FrameStore aborts", () => {
  it("drops a read its caller gave up on, and says which frames are on their way", async () => {
    const signals: AbortSignal[] = [];
    // a server that never answers: only the abort ends the read
    const fetch = vi.fn((url: RequestInfo | URL, init?: RequestInit) => {
      signals.push(init!.signal!);
      return new Promise<Response>((_, reject) =>
        init!.signal!.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
    }) as unknown as typeof globalThis.fetch;
    const store = new FrameStore(new DataClient({ apiUrl: "http://h/zndraw/api/", session: "s", fetch }), "r");
    store.length = 10;
    const read = new AbortController();
    const loading = store.load(3, read.signal);
    expect(store.loading(3)).toBe(true);
    expect(store.loading(4)).toBe(false); // big or unknown frames: one at a time
    read.abort();
    await expect(loading).rejects.toMatchObject({ name: "AbortError" });
    expect(signals[0].aborted).toBe(true);
    expect(store.loading(3)).toBe(false);
  });
});

describe("RoomSync", () => {
  it("applies contiguous events and fills gaps from events?since", async () => {
    const applied: number[] = [];
    const since = vi.fn(async (seq: number) => ({ seq: 6, reload: false, events: [4, 5, 6].filter((s) => s > seq).map((s) => updated(s, 1, s)) }));
    const sync = new RoomSync(2, since, { onData: (events) => applied.push(...events.map((e) => e.seq)), onReload: () => applied.push(-1) });
    sync.handle(updated(3, 1, 3));
    sync.handle(updated(3, 1, 3)); // duplicate
    expect(applied).toEqual([3]);
    sync.handle(updated(6, 1, 6)); // gap: 4, 5 missed
    await sync.idle();
    expect(since).toHaveBeenCalledWith(3);
    expect(applied).toEqual([3, 4, 5, 6]);
    expect(sync.seq).toBe(6);
  });

  it("reloads when the log no longer reaches back, and resyncs on non-data events ahead", async () => {
    const events: string[] = [];
    const sync = new RoomSync(1, async () => ({ seq: 2000, reload: true, events: [] }), {
      onData: () => events.push("data"), onReload: () => events.push("reload"), onOther: (e) => events.push(e.type),
    });
    sync.handle({ type: "step", room: "r", seq: 50, step: 3, holder: "x" });
    await sync.idle();
    expect(events).toEqual(["step", "reload"]);
    expect(sync.seq).toBe(2000);
  });
});

describe("ControlClient", () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  function client(extra: Partial<ConstructorParameters<typeof ControlClient>[0]> = {}) {
    return new ControlClient({ url: "ws://h/zndraw/api/ws?session=s1", socket: (url) => new FakeSocket(url), backoffMin: 100, backoffMax: 1000, ...extra });
  }

  it("matches replies to requests by id and rejects refusals with the server's error", async () => {
    const events: any[] = [];
    const control = client({ onEvent: (e) => events.push(e) });
    const ready = control.connect();
    FakeSocket.all[0].accept();
    await ready;
    expect(control.session).toBe("s1");
    const joined = control.join("r");
    const socket = FakeSocket.all[0];
    expect(socket.sent[0]).toMatchObject({ type: "join_room", room: "r" });
    socket.reply(true, { room: { seq: 3 } });
    expect((await joined).room).toEqual({ seq: 3 });
    const lease = control.request({ type: "request_presenter_token", room: "r" });
    socket.reply(false, { error: "locked", message: "held by x", holder: "x" });
    const error = await lease.catch((e) => e);
    expect(error).toBeInstanceOf(ControlError);
    expect(error.code).toBe("locked");
    expect(error.details.holder).toBe("x");
    socket.push({ type: "step", room: "r", seq: 3, step: 4, holder: "x" });
    expect(events).toEqual([{ type: "step", room: "r", seq: 3, step: 4, holder: "x" }]);
  });

  it("times out requests without a reply", async () => {
    const control = client({ requestTimeout: 500 });
    const ready = control.connect();
    FakeSocket.all[0].accept();
    await ready;
    const pending = control.request({ type: "ping" });
    vi.advanceTimersByTime(600);
    await expect(pending).rejects.toMatchObject({ code: "timeout" });
  });

  it("reconnects with backoff and re-joins its rooms", async () => {
    const statuses: string[] = [];
    const rejoined: string[] = [];
    const control = client({ onStatus: (s) => statuses.push(s), onJoined: (room, _r, again) => again && rejoined.push(room) });
    const ready = control.connect();
    FakeSocket.all[0].accept();
    await ready;
    const joined = control.join("r");
    FakeSocket.all[0].reply(true, { room: { seq: 1 } });
    await joined;
    const inflight = control.request({ type: "ping" });
    FakeSocket.all[0].drop();
    await expect(inflight).rejects.toMatchObject({ code: "disconnected" });
    expect(statuses).toContain("reconnecting");
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(200);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].drop(); // refused again: the delay grows (200 ms +-25%)
    vi.advanceTimersByTime(140);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(200);
    expect(FakeSocket.all).toHaveLength(3);
    const socket = FakeSocket.all[2];
    socket.accept();
    await vi.waitFor(() => expect(socket.sent[0]).toMatchObject({ type: "join_room", room: "r" }));
    socket.reply(true, { room: { seq: 5 } });
    await vi.waitFor(() => expect(rejoined).toEqual(["r"]));
    expect(control.status).toBe("open");
    control.close();
    expect(control.status).toBe("closed");
  });

  it("tells the caller when the channel cannot be opened at all", async () => {
    const control = client();
    const ready = control.connect();
    FakeSocket.all[0].drop(1006);
    vi.advanceTimersByTime(130);
    FakeSocket.all[1].drop(1006);
    vi.advanceTimersByTime(260);
    FakeSocket.all[2].drop(1006);
    await expect(ready).rejects.toMatchObject({ code: "unreachable" });
    control.close();
  });
});
