// How a view reaches its room: HTTP + the control websocket to the zndraw API (the fast
// path), or the widget's own comm, through the kernel, where that API cannot be reached
// (VS Code, Colab, a Jupyter server without the extension, a room that lives in the
// kernel). Both give the same DataClient and ControlClient: the comm carries the same
// requests (each HTTP request as one custom message, its body as a binary buffer) and the
// same control messages, which the kernel passes to the room's server
// (src/zndraw_widget/comm_transport.py). The rest of the front end never knows which.
import type { SocketLike } from "./control";
import { ApiError, DataClient, xsrfFromCookie } from "./data";
import { apiUrlOf, websocketUrl } from "./env";
import { staticTransport } from "./static";
import type { Model } from "./viewer/model";

/** The API root the comm transport's requests are written against (the kernel strips it). */
export const KERNEL_API = "kernel:/zndraw/api/";

export type TransportKind = "http" | "comm" | "static";

export interface Transport {
  kind: TransportKind;
  /** Why this one (shown in the view's status). */
  reason: string;
  data: DataClient;
  /** The control channel's URL and how to open a socket to it. */
  controlUrl: string;
  socket?: (url: string) => SocketLike;
}

/** A model that can send custom messages with binary buffers (anywidget's). */
interface CommModel extends Model {
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
}

type Buffers = Array<ArrayBuffer | ArrayBufferView>;

function bytesOf(buffer: ArrayBuffer | ArrayBufferView | undefined): Uint8Array {
  if (!buffer) return new Uint8Array(0);
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** An exactly sized ArrayBuffer of ``bytes`` (what the comm sends). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** One view's conversation with the kernel over the widget's comm: messages carry this
 * view's ``channel`` so that several views of one widget tell theirs apart. */
export class KernelChannel {
  private readonly channel = Math.random().toString(36).slice(2);
  private nextId = 1;
  private readonly waiting = new Map<number, (content: Record<string, unknown>, buffers: Buffers) => void>();
  private readonly sockets = new Map<number, CommSocket>();
  private readonly listener = (content: Record<string, unknown>, buffers: Buffers = []) => this.receive(content, buffers);

  constructor(private readonly model: CommModel) {
    model.on("msg:custom", this.listener);
  }

  dispose(): void {
    this.model.off("msg:custom", this.listener);
    for (const socket of this.sockets.values()) socket.close();
  }

  send(content: Record<string, unknown>, body?: Uint8Array): number {
    const id = this.nextId++;
    this.model.send({ ...content, channel: this.channel, id }, undefined, body ? [ownBuffer(body)] : []);
    return id;
  }

  private receive(content: Record<string, unknown>, buffers: Buffers): void {
    if (content?.channel !== this.channel || typeof content.id !== "number") return;
    if (content.type === "zndraw.http") {
      const answer = this.waiting.get(content.id);
      this.waiting.delete(content.id);
      answer?.(content, buffers);
    } else {
      this.sockets.get(content.id)?.receive(content, buffers);
    }
  }

  /** ``fetch`` through the kernel: the same request, answered by the room's server. */
  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const path = url.startsWith(KERNEL_API) ? url.slice(KERNEL_API.length) : url;
    const body = init.body == null ? undefined : typeof init.body === "string" ? new TextEncoder().encode(init.body)
      : init.body instanceof Blob ? new Uint8Array(await init.body.arrayBuffer()) // an uploaded file: sent whole
      : bytesOf(init.body as ArrayBuffer | ArrayBufferView);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const signal = init.signal;
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    return new Promise<Response>((resolve, reject) => {
      const id = this.send({ type: "zndraw.http", method: init.method ?? "GET", path, headers }, body);
      const abort = () => {
        this.waiting.delete(id);
        reject(new DOMException("aborted", "AbortError"));
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.waiting.set(id, (content, buffers) => {
        signal?.removeEventListener("abort", abort);
        const status = Number(content.status);
        if (status === 0) {
          reject(new TypeError(String(content.error ?? "the kernel cannot reach the server")));
          return;
        }
        const empty = status === 204 || status === 304;
        const answer = bytesOf(buffers[0] as ArrayBuffer | ArrayBufferView | undefined);
        resolve(new Response(empty ? null : ownBuffer(answer), { status, headers: (content.headers ?? {}) as Record<string, string> }));
      });
    });
  };

  /** A control-channel socket through the kernel. */
  readonly socket = (url: string): SocketLike => {
    const socket = new CommSocket(this, url);
    this.sockets.set(socket.id, socket);
    return socket;
  };

  forget(id: number): void {
    this.sockets.delete(id);
  }
}

/** A websocket the kernel holds open to the room's server on this view's behalf. */
class CommSocket implements SocketLike {
  binaryType = "arraybuffer";
  readyState = 0; // CONNECTING
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  readonly id: number;

  constructor(private readonly channel: KernelChannel, url: string) {
    const session = new URL(url).searchParams.get("session") ?? "";
    this.id = channel.send({ type: "zndraw.ws.open", session });
  }

  receive(content: Record<string, unknown>, buffers: Buffers): void {
    if (content.type === "zndraw.ws.opened") {
      this.readyState = 1;
      this.onopen?.({});
    } else if (content.type === "zndraw.ws.message") {
      this.onmessage?.({ data: ownBuffer(bytesOf(buffers[0])) });
    } else if (content.type === "zndraw.ws.closed") {
      this.ended(Number(content.code ?? 1006), String(content.reason ?? ""));
    }
  }

  send(data: Uint8Array): void {
    if (this.readyState === 1) this.channel.send({ type: "zndraw.ws.send", socket: this.id }, data);
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState >= 2) return;
    this.channel.send({ type: "zndraw.ws.close", socket: this.id, code, reason });
    this.ended(code, reason);
  }

  private ended(code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.channel.forget(this.id);
    this.onclose?.({ code, reason });
  }
}

/** Why the zndraw API cannot be reached from this page (null: it can, or it answered with
 * an error of its own, such as refused credentials: that shows as it would over HTTP). */
async function unreachable(data: DataClient): Promise<string | null> {
  try {
    await data.health();
    return null;
  } catch (error) {
    if (error instanceof ApiError && error.code === "extension_missing") return "no zndraw extension on this page's server";
    if (error instanceof ApiError && error.status === 0) return "the zndraw server cannot be reached from this page";
    return null;
  }
}

/** The transport of one view: the model's ``transport`` ("comm": the room lives in the
 * kernel; "static": a saved page, its frames in the model's ``frames``) or, if the zndraw
 * API answers from this page, HTTP; else the comm. */
export async function openTransport(model: Model, session: string, token: string | undefined, channel: () => KernelChannel | null): Promise<Transport> {
  const forced = String(model.get("transport") ?? "");
  if (forced === "static") return staticTransport(String(model.get("room") ?? ""), model.get("frames") as Uint8Array, session);
  const explicit = String(model.get("api_url") ?? "");
  const apiUrl = apiUrlOf(explicit);
  const http = new DataClient({ apiUrl, session, auth: { token, xsrf: () => xsrfFromCookie() } });
  const httpTransport = (reason: string): Transport => ({ kind: "http", reason, data: http, controlUrl: websocketUrl(apiUrl, session, explicit ? token : undefined) });
  const why = forced === "comm" ? "the room lives in the kernel (no zndraw server)" : await unreachable(http);
  const kernel = why === null ? null : channel();
  if (why === null || kernel === null) return httpTransport(why === null ? "the zndraw API answers" : `${why}, and no comm to the kernel`);
  return {
    kind: "comm",
    reason: why,
    data: new DataClient({ apiUrl: KERNEL_API, session, fetch: kernel.fetch }),
    controlUrl: `${KERNEL_API}ws?session=${encodeURIComponent(session)}`,
    socket: kernel.socket,
  };
}

/** Milliseconds the kernel has to answer over the comm before a saved snapshot shows. */
export const KERNEL_WAIT_MS = 5000;

/** Over the comm with a saved ``snapshot`` (the widget state of a saved notebook, as nbconvert
 * and nbviewer render it, has no kernel): the snapshot's page transport if the kernel does
 * not answer within ``wait`` ms, and ``later``, resolving to the comm once it does. */
export async function withSnapshot(model: Model, comm: Transport, session: string, wait = KERNEL_WAIT_MS): Promise<{ transport: Transport; later?: Promise<Transport> }> {
  const saved = model.get("snapshot") as DataView | ArrayBuffer | Uint8Array | undefined;
  const snapshot = bytesOf(saved ?? undefined);
  if (comm.kind !== "comm" || !snapshot.byteLength) return { transport: comm };
  const answered = comm.data.health().then(() => comm);
  const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), wait));
  const first = await Promise.race([answered.catch(() => comm), timer]);
  if (first) return { transport: first };
  const page = staticTransport(String(model.get("room") ?? ""), snapshot, session);
  page.reason = "saved widget state: the last frame, as saved (no kernel answers)";
  return { transport: page, later: answered };
}

/** A kernel channel over ``model`` if it can send custom messages with buffers. */
export function kernelChannel(model: Model): KernelChannel | null {
  return typeof model.send === "function" ? new KernelChannel(model as CommModel) : null;
}
