// Per-atom strings (PDB's arrays.residuenames): an objects column of N strings per frame
// decodes without trouble, is never offered as a numeric property, and the inspector shows
// an atom's string.
import { describe, expect, it } from "vitest";
import { decode, encode, NDArray } from "../codec";
import { framesOf, ReadResponse } from "../frames";
import { atomValues, propertyChoices } from "../properties";

describe("per-atom strings", () => {
  it("decode as lists, stay out of the numeric properties, and show in the inspector", () => {
    const message = encode({
      length: 1, seq: 1, order_version: 1, ids: ["a"], hashes: ["h"],
      indices: new NDArray("<i8", [1], new BigInt64Array([0n])),
      versions: new NDArray("<i8", [1], new BigInt64Array([1n])),
      data: {
        positions: { values: new NDArray("<f8", [1, 2, 3], new Float64Array(6)) },
        numbers: { values: new NDArray("<i8", [1, 2], new BigInt64Array([8n, 1n])) },
        "arrays.bfactor": { values: new NDArray("<f8", [1, 2], new Float64Array([1.5, 2])) },
        "arrays.residuenames": { objects: [["HOH", "WAT"]] },
      },
    });
    const [frame] = framesOf(decode(message) as ReadResponse);
    expect(frame.fields["arrays.residuenames"]).toEqual(["HOH", "WAT"]);
    expect(propertyChoices(frame)).toEqual(["arrays.bfactor"]);
    expect(atomValues(frame, 1)).toEqual([["arrays.bfactor", "2"], ["arrays.residuenames", "WAT"]]);
  });
});
