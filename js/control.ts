// The control channel: one websocket, binary msgpack maps, requests with ids and replies,
// room events, reconnection with backoff (docs/protocol.md "Control channel").
import { decode, encode } from "@msgpack/msgpack";
import { ControlEvent, ControlRequest, JoinReply, ReplyError, ReplyOk, ReplyTo, requests, ServerMessage } from "./protocol";

export class ControlError extends Error {
  constructor(readonly code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ControlError";
  }
}

export interface SocketLike {
  binaryType: string;
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type Status = "connecting" | "open" | "reconnecting" | "closed";

export interface ControlOptions {
  url: string;
  socket?: (url: string) => SocketLike;
  /** Reconnect delays: min * 2^attempt, capped at max (ms), with jitter. */
  backoffMin?: number;
  backoffMax?: number;
  requestTimeout?: number;
  onEvent?: (event: ControlEvent) => void;
  onStatus?: (status: Status, detail?: string) => void;
  /** After every (re)connection and re-join of the rooms: reply of each join_room. */
  onJoined?: (room: string, reply: JoinReply, reconnected: boolean) => void;
  /** A join after reconnecting failed (e.g. the room was deleted). */
  onJoinError?: (room: string, error: ControlError) => void;
}

interface Pending {
  resolve: (reply: ReplyOk) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

function refusal(reply: ReplyError): ControlError {
  const { error, message: text, type: _t, id: _i, ok: _o, ...details } = reply;
  return new ControlError(String(error), String(text ?? error), details);
}

export class ControlClient {
  session = "";
  user = "";
  status: Status = "connecting";
  private socket: SocketLike | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private rooms = new Set<string>();
  private attempt = 0;
  private closed = false;
  private everOpened = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private helloWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(private readonly options: ControlOptions) {}

  /** Connect; resolves once the server said hello. */
  connect(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => this.helloWaiters.push({ resolve, reject }));
    this.open();
    return ready;
  }

  private setStatus(status: Status, detail?: string): void {
    this.status = status;
    this.options.onStatus?.(status, detail);
  }

  private open(): void {
    if (this.closed) return;
    const make = this.options.socket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    let socket: SocketLike;
    try {
      socket = make(this.options.url);
    } catch (error) {
      this.scheduleReconnect(String(error));
      return;
    }
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onclose = (ev) => this.lost(socket, `closed (${ev.code}${ev.reason ? ": " + ev.reason : ""})`);
    socket.onerror = () => undefined; // onclose follows
  }

  private receive(data: unknown): void {
    let message: ServerMessage;
    try {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
      message = decode(bytes) as ServerMessage;
    } catch {
      return;
    }
    if (!message || typeof message.type !== "string") return;
    if (message.type === "hello") {
      this.session = String(message.session);
      this.user = String(message.user ?? "");
      void this.onHello();
      return;
    }
    if (message.type === "reply") {
      const id = typeof message.id === "number" ? message.id : undefined;
      const pending = id === undefined ? undefined : this.pending.get(id);
      if (id === undefined || !pending) {
        if (message.ok === false) this.options.onEvent?.({ ...message, type: "error" });
        return;
      }
      this.pending.delete(id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message);
      else pending.reject(refusal(message));
      return;
    }
    this.options.onEvent?.(message);
  }

  private async onHello(): Promise<void> {
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.attempt = 0;
    this.setStatus("open");
    for (const waiter of this.helloWaiters.splice(0)) waiter.resolve();
    if (!reconnected) return;
    for (const room of [...this.rooms]) {
      try {
        const reply = await this.request(requests.joinRoom(room));
        this.options.onJoined?.(room, reply, true);
      } catch (error) {
        this.options.onJoinError?.(room, error as ControlError);
      }
    }
  }

  private lost(socket: SocketLike, why: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ControlError("disconnected", `the control channel dropped: ${why}`));
      this.pending.delete(id);
    }
    if (this.closed) return;
    if (!this.everOpened && this.attempt >= 2) {
      // Never got in: refused (403, no extension): tell the waiters, keep retrying slowly.
      for (const waiter of this.helloWaiters.splice(0)) {
        waiter.reject(new ControlError("unreachable", `cannot open the control channel at ${this.options.url}: ${why}`));
      }
    }
    this.scheduleReconnect(why);
  }

  private scheduleReconnect(why: string): void {
    if (this.closed) return;
    // docs/protocol.md "Reconnecting": the same policy as the kernel client (client/link.py)
    const min = this.options.backoffMin ?? 100;
    const max = this.options.backoffMax ?? 5000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.setStatus("reconnecting", why);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
  }

  /** Send a request and wait for its reply; a ControlError when the server refuses. */
  request<T extends ControlRequest>(message: T, timeout = this.options.requestTimeout ?? 10000): Promise<ReplyTo<T>> {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN || !this.session) {
      return Promise.reject(new ControlError("disconnected", "the control channel is not connected"));
    }
    const id = this.nextId++;
    return new Promise<ReplyTo<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ControlError("timeout", `no reply to ${message.type} within ${timeout} ms`));
      }, timeout);
      this.pending.set(id, { resolve: (reply) => resolve(reply as unknown as ReplyTo<T>), reject, timer });
      socket.send(encode({ ...message, id }));
    });
  }

  /** Send without waiting for a reply (errors arrive as events of type "error"). */
  notify(message: ControlRequest): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(encode(message));
    return true;
  }

  async join(room: string): Promise<JoinReply> {
    const reply = await this.request(requests.joinRoom(room));
    this.rooms.add(room);
    this.options.onJoined?.(room, reply, false);
    return reply;
  }

  async leave(room: string): Promise<void> {
    this.rooms.delete(room);
    if (this.socket?.readyState === OPEN) this.notify(requests.leaveRoom(room));
  }

  /** Take a lease on ``target`` (``order`` or ``frame:<id>``); ControlError ``locked`` names the holder. */
  lock(room: string, target: string, ttl?: number): Promise<ReplyTo<ReturnType<typeof requests.lock>>> {
    return this.request(requests.lock(room, target, ttl));
  }

  /** Give a lease back (no reply awaited). */
  releaseLock(room: string, target: string): boolean {
    return this.notify(requests.releaseLock(room, target));
  }

  /** Take the room's presenter token; ControlError ``locked`` names the presenter. */
  takePresenter(room: string, ttl?: number): Promise<ReplyTo<ReturnType<typeof requests.takePresenter>>> {
    return this.request(requests.takePresenter(room, ttl));
  }

  renewPresenter(room: string, ttl?: number): Promise<ReplyTo<ReturnType<typeof requests.renewPresenter>>> {
    return this.request(requests.renewPresenter(room, ttl));
  }

  /** Give the presenter token back (no reply awaited). */
  releasePresenter(room: string): boolean {
    return this.notify(requests.releasePresenter(room));
  }

  /** Move the room to ``frame`` (only the presenter may; no reply awaited). */
  setRoomFrame(room: string, frame: number): boolean {
    return this.notify(requests.setRoomFrame(room, frame));
  }

  ping(): Promise<ReplyTo<ReturnType<typeof requests.ping>>> {
    return this.request(requests.ping());
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.setStatus("closed");
    const socket = this.socket;
    this.socket = null;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ControlError("closed", "the control channel was closed"));
    }
    this.pending.clear();
    socket?.close(1000, "bye");
  }
}
