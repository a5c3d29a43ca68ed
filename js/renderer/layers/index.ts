// The layers of the scene. Adding one: a file in this folder implementing Layer, plus its
// line in `all` below (the order in which they are updated).
import { AtomsLayer } from "./atoms";
import { BondsLayer } from "./bonds";
import { CellLayer } from "./cell";
import type { Layer } from "./layer";
import { MarksLayer } from "./marks";

export interface Layers {
  /** The atoms: picking, selection and the atom count go through them. */
  atoms: AtomsLayer;
  bonds: BondsLayer;
  /** Other people's selections, in their colours. */
  marks: MarksLayer;
  /** Every layer, in update order (the atoms first: others draw from their colours). */
  all: Layer[];
}

export function createLayers(): Layers {
  const atoms = new AtomsLayer();
  const bonds = new BondsLayer(atoms);
  const marks = new MarksLayer(atoms);
  return { atoms, bonds, marks, all: [atoms, bonds, new CellLayer(), marks] };
}

export type { Layer, ShownFrame } from "./layer";
export { BOND_LIMIT } from "./bonds";
export type { MarkGroup } from "./marks";
