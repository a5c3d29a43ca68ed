// The msgpack wire format of docs/protocol.md: numpy arrays are extension type 1 whose raw
// data starts 8-byte aligned from the start of the message, so they are viewed as typed
// arrays without copying.
import { decode as msgpackDecode, ExtensionCodec } from "@msgpack/msgpack";

export type TypedArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** A numpy array on the wire: C-order data viewed as a typed array. */
export class NDArray {
  constructor(
    readonly dtype: string,
    readonly shape: number[],
    readonly data: TypedArray,
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

type Ctor = { new (buffer: ArrayBufferLike, offset: number, length: number): TypedArray; BYTES_PER_ELEMENT: number };

export const DTYPES: Record<string, Ctor> = {
  "|b1": Uint8Array,
  "|i1": Int8Array,
  "<i2": Int16Array,
  "<i4": Int32Array,
  "<i8": BigInt64Array,
  "|u1": Uint8Array,
  "<u2": Uint16Array,
  "<u4": Uint32Array,
  "<u8": BigUint64Array,
  "<f4": Float32Array,
  "<f8": Float64Array,
};

const NAMES = new Map<Ctor, string>([
  [Int8Array as unknown as Ctor, "|i1"],
  [Uint8Array as unknown as Ctor, "|u1"],
  [Int16Array as unknown as Ctor, "<i2"],
  [Uint16Array as unknown as Ctor, "<u2"],
  [Int32Array as unknown as Ctor, "<i4"],
  [Uint32Array as unknown as Ctor, "<u4"],
  [Float32Array as unknown as Ctor, "<f4"],
  [Float64Array as unknown as Ctor, "<f8"],
  [BigInt64Array as unknown as Ctor, "<i8"],
  [BigUint64Array as unknown as Ctor, "<u8"],
]);

export class CodecError extends Error {}

/** Counts arrays decoded by copying (data not aligned in its buffer); for tests. */
export const stats = { copies: 0 };

export function decodeArray(data: Uint8Array): NDArray {
  const headerLength = data[0];
  const header = msgpackDecode(data.subarray(1, 1 + headerLength)) as [string, number[]];
  if (!Array.isArray(header) || header.length !== 2) throw new CodecError("malformed array header");
  const [dtype, shape] = header;
  const ctor = DTYPES[dtype];
  if (!ctor) throw new CodecError(`unsupported dtype ${dtype}`);
  const pad = data[1 + headerLength];
  const start = 2 + headerLength + pad;
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  const nbytes = count * ctor.BYTES_PER_ELEMENT;
  if (data.length - start !== nbytes) {
    throw new CodecError(`array data (${data.length - start} bytes) does not match ${dtype} ${JSON.stringify(shape)}`);
  }
  const offset = data.byteOffset + start;
  let view: TypedArray;
  if (offset % ctor.BYTES_PER_ELEMENT === 0) {
    view = new ctor(data.buffer, offset, count);
  } else {
    // Not aligned within its buffer (the message was copied somewhere unaligned): copy once.
    stats.copies += 1;
    const copy = new Uint8Array(nbytes);
    copy.set(data.subarray(start));
    view = new ctor(copy.buffer, 0, count);
  }
  return new NDArray(dtype, shape, view);
}

export const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: 1,
  encode: () => null,
  decode: (data: Uint8Array) => decodeArray(data),
});

/** Decode one message; arrays become NDArray views into ``buffer``. */
export function decode(buffer: ArrayBufferLike | Uint8Array): unknown {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return msgpackDecode(bytes, { extensionCodec });
}

// -- encoding -------------------------------------------------------------------------------
// A small encoder that knows the absolute offset of every byte, so that array data is
// aligned to 8 bytes from the start of the message as the protocol asks.
class Writer {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void { this.reserve(1); this.buf[this.length++] = v; }
  u16(v: number): void { this.reserve(2); this.view.setUint16(this.length, v); this.length += 2; }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.length, v); this.length += 4; }
  bytes(b: Uint8Array): void { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length; }
  f64(v: number): void { this.reserve(8); this.view.setFloat64(this.length, v); this.length += 8; }
  i64(v: bigint): void { this.reserve(8); this.view.setBigInt64(this.length, v); this.length += 8; }
  result(): Uint8Array<ArrayBuffer> { return this.buf.slice(0, this.length); }
}

const textEncoder = new TextEncoder();

function writeValue(w: Writer, value: unknown): void {
  if (value === null || value === undefined) return w.u8(0xc0);
  if (value === false) return w.u8(0xc2);
  if (value === true) return w.u8(0xc3);
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0 && value < 0x80) return w.u8(value);
    if (Number.isInteger(value) && value < 0 && value >= -32) return w.u8(value & 0xff);
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) { w.u8(0xce); return w.u32(value); }
    if (Number.isSafeInteger(value)) { w.u8(0xd3); return w.i64(BigInt(value)); }
    w.u8(0xcb);
    return w.f64(value);
  }
  if (typeof value === "bigint") { w.u8(0xd3); return w.i64(value); }
  if (typeof value === "string") {
    const b = textEncoder.encode(value);
    if (b.length < 32) w.u8(0xa0 | b.length);
    else if (b.length < 0x100) { w.u8(0xd9); w.u8(b.length); }
    else if (b.length < 0x10000) { w.u8(0xda); w.u16(b.length); }
    else { w.u8(0xdb); w.u32(b.length); }
    return w.bytes(b);
  }
  if (value instanceof NDArray) return writeArray(w, value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const t = value as TypedArray;
    return writeArray(w, new NDArray(dtypeOf(t), [t.length], t));
  }
  if (Array.isArray(value)) {
    if (value.length < 16) w.u8(0x90 | value.length);
    else if (value.length < 0x10000) { w.u8(0xdc); w.u16(value.length); }
    else { w.u8(0xdd); w.u32(value.length); }
    for (const item of value) writeValue(w, item);
    return;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length < 16) w.u8(0x80 | entries.length);
    else if (entries.length < 0x10000) { w.u8(0xde); w.u16(entries.length); }
    else { w.u8(0xdf); w.u32(entries.length); }
    for (const [k, v] of entries) { writeValue(w, k); writeValue(w, v); }
    return;
  }
  throw new CodecError(`cannot encode ${typeof value}`);
}

export function dtypeOf(array: TypedArray): string {
  const name = NAMES.get(array.constructor as unknown as Ctor);
  if (!name) throw new CodecError("unsupported typed array");
  return name;
}

function writeArray(w: Writer, array: NDArray): void {
  const header = new Writer();
  writeValue(header, [array.dtype, array.shape]);
  const h = header.result();
  const raw = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  // ext32: 0xc9 + u32 length + i8 type (6 bytes), then header length, header, pad byte.
  const beforePad = w.length + 6 + 1 + h.length + 1;
  const pad = (8 - (beforePad % 8)) % 8;
  w.u8(0xc9);
  w.u32(1 + h.length + 1 + pad + raw.length);
  w.u8(1);
  w.u8(h.length);
  w.bytes(h);
  w.u8(pad);
  for (let i = 0; i < pad; i++) w.u8(0);
  w.bytes(raw);
}

/** Encode a message (maps, lists, strings, numbers, NDArray / typed arrays). */
export function encode(value: unknown): Uint8Array<ArrayBuffer> {
  const w = new Writer();
  writeValue(w, value);
  return w.result();
}

// -- conversions ------------------------------------------------------------------------------
/** Small non-negative integers (atomic numbers) as a Uint8Array (one pass; int64 comes as
 * BigInt64Array). */
export function toUint8(data: TypedArray): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    out.set(data as ArrayLike<number>);
  }
  return out;
}

export function toNumbers(data: TypedArray): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
