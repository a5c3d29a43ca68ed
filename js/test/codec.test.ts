import { describe, expect, it } from "vitest";
import { decode, encode, NDArray, stats, toUint8 } from "../codec";
import { columnFrame, framesOf, ReadResponse } from "../frames";
import { FIXTURE_HEX } from "./fixture";

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

describe("codec", () => {
  it("decodes a message made by the Python codec into aligned views without copying", () => {
    const bytes = fromHex(FIXTURE_HEX);
    const buffer = bytes.buffer;
    const before = stats.copies;
    const message = decode(buffer) as Record<string, NDArray | unknown>;
    expect(stats.copies).toBe(before);
    const f8 = message.f8 as NDArray;
    expect(f8.dtype).toBe("<f8");
    expect(f8.shape).toEqual([2, 3]);
    expect(f8.data).toBeInstanceOf(Float64Array);
    expect(f8.data.buffer).toBe(buffer); // a view, not a copy
    expect(f8.data.byteOffset % 8).toBe(0);
    expect(Array.from(f8.data as Float64Array)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    const i8 = message.i8 as NDArray;
    expect(i8.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(toUint8(i8.data)).slice(0, 1)).toEqual([1]);
    expect((message.u1 as NDArray).data).toBeInstanceOf(Uint8Array);
    expect(Array.from((message.b1 as NDArray).data as Uint8Array)).toEqual([1, 0, 1]);
    expect((message.f4 as NDArray).data).toBeInstanceOf(Float32Array);
    expect((message.empty as NDArray).shape).toEqual([0, 3]);
    expect(message.text).toBe("héllo");
    expect(message.nested).toEqual({ list: [1, 2, 3], none: null });
  });

  it("copies (once) when the message sits unaligned in its buffer", () => {
    const bytes = fromHex(FIXTURE_HEX);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const before = stats.copies;
    const message = decode(shifted.subarray(3)) as Record<string, NDArray>;
    expect(stats.copies).toBeGreaterThan(before);
    expect(Array.from(message.f8.data as Float64Array)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });

  it("round-trips arrays it encodes, aligned from the start of the message", () => {
    const positions = new Float64Array([1, 2, 3, 4, 5, 6]);
    const body = encode({ a: "x", data: { positions: { values: new NDArray("<f8", [1, 2, 3], positions) } }, n: 5, big: 2 ** 40, f: 0.25, neg: -3 });
    const message = decode(body) as any;
    const values = message.data.positions.values as NDArray;
    expect(values.shape).toEqual([1, 2, 3]);
    expect(values.data.byteOffset % 8).toBe(0);
    expect(Array.from(values.data as Float64Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(message.n).toBe(5);
    expect(message.big).toBe(2 ** 40);
    expect(message.f).toBe(0.25);
    expect(message.neg).toBe(-3);
  });

  it("rejects arrays whose data does not match the shape", () => {
    const good = encode({ v: new Float32Array([1, 2]) });
    const bad = good.slice(0, good.length - 4);
    // the ext length still says 8 bytes of data: msgpack runs out of data
    expect(() => decode(bad)).toThrow();
  });
});

describe("frames", () => {
  const values = new NDArray("<f8", [2, 3, 3], new Float64Array(18).map((_, i) => i));
  it("views frame i of a column, trimmed by its shape", () => {
    const shapes = new NDArray("<i8", [2, 2], new BigInt64Array([3n, 3n, 2n, 3n]));
    const second = columnFrame({ values, shapes }, 1) as NDArray;
    expect(second.shape).toEqual([2, 3]);
    expect(Array.from(second.data as Float64Array)).toEqual([9, 10, 11, 12, 13, 14]);
    expect(second.data.buffer).toBe(values.data.buffer);
  });

  it("gathers when a later axis is padded, and honours present and objects", () => {
    const shapes = new NDArray("<i8", [2, 2], new BigInt64Array([3n, 3n, 2n, 2n]));
    expect(Array.from((columnFrame({ values, shapes }, 1) as NDArray).data as Float64Array)).toEqual([9, 10, 12, 13]);
    const present = new NDArray("|b1", [2], new Uint8Array([1, 0]));
    expect(columnFrame({ values, present }, 1)).toBeUndefined();
    expect(columnFrame({ objects: ["a", { b: 1 }] }, 1)).toEqual({ b: 1 });
  });

  it("splits a read response into frames", () => {
    const response: ReadResponse = {
      length: 10, seq: 4, order_version: 2,
      indices: new NDArray("<i8", [2], new BigInt64Array([3n, 4n])),
      ids: ["a", "b"],
      versions: new NDArray("<i8", [2], new BigInt64Array([1n, 5n])),
      hashes: ["h1", "h2"],
      data: {
        positions: { values: new NDArray("<f8", [2, 2, 3], Float64Array.from({ length: 12 }, (_, k) => k + 0.5)) },
        numbers: { values: new NDArray("<i8", [2, 2], new BigInt64Array([1n, 8n, 6n, 6n])) },
        cell: { values: new NDArray("<f8", [2, 3, 3], new Float64Array(18)) },
        "info.energy": { values: new NDArray("<f8", [2], new Float64Array([-1, -2])) },
      },
    };
    const frames = framesOf(response);
    expect(frames.map((f) => [f.index, f.id, f.version])).toEqual([[3, "a", 1], [4, "b", 5]]);
    expect(Array.from(frames[0].numbers)).toEqual([1, 8]);
    expect(frames[1].numbers).toBeInstanceOf(Uint8Array);
    expect(frames[1].positions.length).toBe(6);
    // float32 copies for drawing, converted once for the batch, values kept
    expect(frames[1].display).toBeInstanceOf(Float32Array);
    expect(Array.from(frames[1].display)).toEqual([6.5, 7.5, 8.5, 9.5, 10.5, 11.5]);
    expect(frames[0].display.buffer).toBe(frames[1].display.buffer);
    expect(frames[1].cell?.length).toBe(9);
    expect(((frames[1].fields["info.energy"] as NDArray).data as Float64Array)[0]).toBe(-2);
  });
});
