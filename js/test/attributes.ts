// What a layer uploads, read back the way the GPU reads it.
import type { BufferAttribute, InterleavedBufferAttribute } from "three";

/** The items of a mesh's (instanced, maybe interleaved) attribute ``name``, in order: ``count``
 * of them from the first. */
export function attributeItems(mesh: { geometry: { getAttribute(name: string): unknown } }, name: string, count: number): number[] {
  const attribute = mesh.geometry.getAttribute(name) as BufferAttribute | InterleavedBufferAttribute;
  const out: number[] = [];
  for (let i = 0; i < count; i++) for (let k = 0; k < attribute.itemSize; k++) out.push(attribute.getComponent(i, k));
  return out;
}
