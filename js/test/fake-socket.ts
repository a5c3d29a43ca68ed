// A fake websocket for the control client's tests: the test plays the server.
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import type { SocketLike } from "../control";

export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  binaryType = "blob";
  readyState = 0;
  onopen: SocketLike["onopen"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  onmessage: SocketLike["onmessage"] = null;
  sent: any[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: Uint8Array) {
    this.sent.push(msgpackDecode(data));
  }
  close() {
    this.drop(1000);
  }
  // server side
  accept(session = "s1") {
    this.readyState = 1;
    this.onopen?.({});
    this.push({ type: "hello", session, user: "u" });
  }
  push(message: object) {
    const bytes = msgpackEncode(message);
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }
  drop(code = 1006) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
  reply(ok = true, extra: object = {}) {
    const request = this.sent[this.sent.length - 1];
    this.push({ type: "reply", id: request.id, ok, ...extra });
  }
}
