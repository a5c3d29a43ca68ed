import { describe, expect, it } from "vitest";
import { decode, encode } from "@msgpack/msgpack";
import { ControlClient } from "../control";
import { KERNEL_API, KernelChannel, openTransport } from "../transport";
import type { Model } from "../viewer/model";

/** A widget model whose kernel answers with ``answer(content, buffers)``. */
function fakeModel(traits: Record<string, unknown>, answer: (content: any, buffers: ArrayBuffer[], reply: (c: any, b?: ArrayBuffer[]) => void) => void) {
  const listeners: Array<(c: any, b: ArrayBuffer[]) => void> = [];
  const sent: any[] = [];
  const model: Model & { send: (c: unknown, cb?: unknown, b?: ArrayBuffer[]) => void } = {
    get: (name) => traits[name],
    set: () => undefined,
    save_changes: () => undefined,
    on: (event, callback) => event === "msg:custom" && listeners.push(callback),
    off: (_event, callback) => listeners.splice(listeners.indexOf(callback as never), 1),
    send: (content: unknown, _cb?: unknown, buffers: ArrayBuffer[] = []) => {
      sent.push(content);
      queueMicrotask(() => answer(content, buffers, (c, b = []) => listeners.forEach((l) => l(c, b))));
    },
  };
  return { model, sent };
}

const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

describe("the comm transport", () => {
  it("sends each request through the kernel and builds the response from its answer", async () => {
    const { model, sent } = fakeModel({}, (c, buffers, reply) => {
      expect(new TextDecoder().decode(buffers[0])).toBe('{"ttl":5}');
      reply({ type: "zndraw.http", channel: c.channel, id: c.id, status: 201, headers: { "content-type": "application/json" } }, [bytes('{"ok":1}')]);
    });
    const channel = new KernelChannel(model);
    const response = await channel.fetch(`${KERNEL_API}rooms/r/leases/order`, { method: "POST", body: '{"ttl":5}', headers: { "X-ZnDraw-Session": "s" } });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: 1 });
    expect(sent[0]).toMatchObject({ type: "zndraw.http", method: "POST", path: "rooms/r/leases/order", headers: { "x-zndraw-session": "s" } });
  });

  it("sends an uploaded file (a Blob body) whole", async () => {
    const { model, sent } = fakeModel({}, (c, buffers, reply) => {
      expect(new TextDecoder().decode(buffers[0])).toBe("1\n\nH 0 0 0\n");
      reply({ type: "zndraw.http", channel: c.channel, id: c.id, status: 202, headers: { "content-type": "application/json" } }, [bytes('{"job":{}}')]);
    });
    const response = await new KernelChannel(model).fetch(`${KERNEL_API}rooms/r/files?name=h.xyz`, { method: "POST", body: new Blob(["1\n\nH 0 0 0\n"]) });
    expect(response.status).toBe(202);
    expect(sent[0]).toMatchObject({ method: "POST", path: "rooms/r/files?name=h.xyz" });
  });

  it("ignores the answers of another view of the same widget", async () => {
    const { model } = fakeModel({}, (c, _b, reply) => {
      reply({ type: "zndraw.http", channel: "someone-else", id: c.id, status: 500 });
      reply({ type: "zndraw.http", channel: c.channel, id: c.id, status: 204 });
    });
    const response = await new KernelChannel(model).fetch(`${KERNEL_API}health`);
    expect(response.status).toBe(204);
  });

  it("carries the control channel: hello, requests and replies", async () => {
    const { model } = fakeModel({}, (c, buffers, reply) => {
      if (c.type === "zndraw.ws.open") {
        reply({ type: "zndraw.ws.opened", channel: c.channel, id: c.id });
        reply({ type: "zndraw.ws.message", channel: c.channel, id: c.id }, [encode({ type: "hello", session: c.session }).slice().buffer as ArrayBuffer]);
      } else if (c.type === "zndraw.ws.send") {
        expect(decode(new Uint8Array(buffers[0]))).toMatchObject({ type: "ping", id: 1 });
        reply({ type: "zndraw.ws.message", channel: c.channel, id: c.socket }, [encode({ type: "reply", id: 1, ok: true, time: 3 }).slice().buffer as ArrayBuffer]);
      }
    });
    const channel = new KernelChannel(model);
    const control = new ControlClient({ url: `${KERNEL_API}ws?session=widget-1`, socket: channel.socket });
    await control.connect();
    expect(control.session).toBe("widget-1");
    expect((await control.ping()).time).toBe(3);
    control.close();
  });

  it("falls back to the comm when the page has no zndraw API, and says why", async () => {
    const { model } = fakeModel({ api_url: "http://127.0.0.1:1/" }, () => undefined);
    const transport = await openTransport(model, "widget-2", undefined, () => new KernelChannel(model as never));
    expect(transport.kind).toBe("comm");
    expect(transport.reason).toMatch(/cannot be reached/);
    const forced = await openTransport(fakeModel({ transport: "comm", api_url: "http://127.0.0.1:1/" }, () => undefined).model, "w", undefined, () => new KernelChannel(model as never));
    expect(forced.reason).toMatch(/lives in the kernel/);
  });
});
