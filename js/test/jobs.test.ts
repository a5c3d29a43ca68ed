// Files in and out: a job's progress as the viewer shows it, the export request for each
// choice of frames (and the refusal of one too long for the server's URL limit), the file
// name of a download, and the DataClient's upload/cancel/download over a fake fetch.
import { describe, expect, it } from "vitest";
import { DataClient } from "../data";
import { attachmentName, exportPath, jobView, MAX_URL_BYTES } from "../jobs";
import type { Job } from "../protocol";

const job = (over: Partial<Job>): Job => ({
  id: "j1", kind: "import", room: "r", user: "ann", state: "running", name: "md.xyz", format: "extxyz",
  bytes_total: 1000, bytes_done: 0, frames_done: 0, error: null, created: 0, updated: 0, ...over,
});

describe("jobView", () => {
  it("shows a running import's fraction of bytes and its frames, unknown until bytes are done", () => {
    expect(jobView(job({ bytes_done: 0 }))).toEqual({ fraction: null, text: "md.xyz: importing, 0 frames", running: true });
    expect(jobView(job({ bytes_done: 250, frames_done: 1 }))).toEqual({ fraction: 0.25, text: "md.xyz: importing, 1 frame (25%)", running: true });
    expect(jobView(job({ state: "queued" })).text).toBe("md.xyz: waiting, 0 frames");
    expect(jobView(job({ state: "done", bytes_done: 1000, frames_done: 40 }))).toEqual({ fraction: 1, text: "md.xyz: 40 frames imported", running: false });
  });

  it("says what failed and where, and what was kept", () => {
    const failed = job({ state: "failed", frames_done: 3, error: { message: "could not convert string to float", frame: 3, line: 57 } });
    expect(jobView(failed)).toEqual({
      fraction: 0, running: false,
      text: "md.xyz failed: could not convert string to float at frame 3, line 57; the 3 frames before it were kept",
    });
    expect(jobView(job({ state: "failed", error: { message: "bad", frame: null, line: null } })).text).toBe("md.xyz failed: bad");
    expect(jobView(job({ state: "failed", frames_done: 1, error: { message: "bad", frame: 1, line: null } })).text)
      .toBe("md.xyz failed: bad at frame 1; the frame before it was kept");
    expect(jobView(job({ state: "cancelled", bytes_done: 500 })).fraction).toBe(0.5);
    expect(jobView(job({ state: "cancelled", frames_done: 2 })).text).toBe("md.xyz: cancelled after 2 frames");
  });
});

describe("exportPath", () => {
  const api = "http://h/user/ann/zndraw/api/";
  it("asks for this frame, a list or slice of frames, or the whole room (no index)", () => {
    expect(exportPath(api, "my room", "extxyz", { kind: "frame", frame: 4 })).toBe("rooms/my%20room/export?format=extxyz&index=4");
    expect(exportPath(api, "r", "traj", { kind: "frames", index: " 1, 5,7 " })).toBe("rooms/r/export?format=traj&index=1%2C5%2C7");
    expect(exportPath(api, "r", "traj", { kind: "frames", index: "::2" })).toBe("rooms/r/export?format=traj&index=%3A%3A2");
    expect(exportPath(api, "r", "h5md", { kind: "room" })).toBe("rooms/r/export?format=h5md");
  });

  it("refuses what is not a choice of frames, and a list too long for the URL, saying what to do", () => {
    expect((exportPath(api, "r", "extxyz", { kind: "frames", index: "1-5" }) as Error).message).toMatch(/not a choice of frames: write a list/);
    expect((exportPath(api, "r", "extxyz", { kind: "frame", frame: -1 }) as Error).message).toBe("no frame is shown yet");
    const many = Array.from({ length: 4000 }, (_, i) => i * 3).join(",");
    expect(many.length).toBeGreaterThan(MAX_URL_BYTES / 2);
    const error = exportPath(api, "r", "extxyz", { kind: "frames", index: many }) as Error;
    expect(error.message).toMatch(/a list of 4000 frames is too long for one download .* choose a slice \(start:stop:step\) or the whole room/);
    expect(typeof exportPath(api, "r", "extxyz", { kind: "frames", index: many.slice(0, 2000).replace(/,\d*$/, "") })).toBe("string");
  });
});

describe("attachmentName", () => {
  it("reads the server's file name, else the fallback", () => {
    expect(attachmentName('attachment; filename="md.xyz"', "x")).toBe("md.xyz");
    expect(attachmentName("attachment; filename*=UTF-8''a%20b.traj", "x")).toBe("a b.traj");
    expect(attachmentName(null, "room.extxyz")).toBe("room.extxyz");
  });
});

describe("DataClient files", () => {
  function client() {
    const calls: { url: string; init: RequestInit }[] = [];
    const answers: Response[] = [];
    const data = new DataClient({
      apiUrl: "http://h/zndraw/api/", session: "s1", auth: { xsrf: () => "X1" },
      fetch: async (url, init) => (calls.push({ url: String(url), init: init! }), answers.shift()!),
    });
    return { data, calls, answers };
  }

  it("uploads the file itself as the body with the XSRF header, and reads the job", async () => {
    const { data, calls, answers } = client();
    answers.push(new Response(JSON.stringify({ job: job({ state: "queued" }) }), { status: 202, headers: { "Content-Type": "application/json" } }));
    const file = new Blob(["2\n\nH 0 0 0\nH 0 0 1\n"]);
    const got = await data.upload("r 1", file, "h2.xyz");
    expect(got.state).toBe("queued");
    expect(calls[0].url).toBe("http://h/zndraw/api/rooms/r%201/files?name=h2.xyz");
    expect(calls[0].init.method).toBe("POST");
    expect(calls[0].init.body).toBe(file);
    expect(calls[0].init.headers).toMatchObject({ "X-XSRFToken": "X1", "X-ZnDraw-Session": "s1", "Content-Type": "application/octet-stream" });
  });

  it("passes a refusal on as an ApiError with the server's message", async () => {
    const { data, answers } = client();
    answers.push(new Response(JSON.stringify({ error: "bad_request", message: "unknown format 'foo'" }), { status: 400, headers: { "Content-Type": "application/json" } }));
    await expect(data.upload("r", new Blob(["x"]), "a.foo")).rejects.toMatchObject({ status: 400, message: "unknown format 'foo'" });
  });

  it("cancels with DELETE jobs/<id>, and downloads with the XSRF header and the server's file name", async () => {
    const { data, calls, answers } = client();
    answers.push(new Response(JSON.stringify(job({ state: "cancelled" })), { status: 200, headers: { "Content-Type": "application/json" } }));
    expect((await data.cancelJob("j1")).state).toBe("cancelled");
    expect(calls[0].init.method).toBe("DELETE");
    expect(calls[0].url).toBe("http://h/zndraw/api/jobs/j1");
    answers.push(new Response("1\n\nH 0 0 0\n", { headers: { "Content-Disposition": 'attachment; filename="r.xyz"', "X-ZnDraw-Frames": "1" } }));
    const got = await data.download("rooms/r/export?format=extxyz", "r.extxyz");
    expect(got.name).toBe("r.xyz");
    expect(got.frames).toBe(1);
    expect(await got.blob.text()).toBe("1\n\nH 0 0 0\n");
    expect(calls[1].init.method).toBe("GET");
    expect(calls[1].init.headers).toMatchObject({ "X-XSRFToken": "X1" });
  });
});
