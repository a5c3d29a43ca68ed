// The layers of the scene. Adding one: a file in this folder implementing Layer, plus its
// line in `all` below (the order in which they are updated).
import { Look } from "../look";
import { AtomsLayer } from "./atoms";
import { BondsLayer } from "./bonds";
import { CellLayer } from "./cell";
import { LabelsLayer } from "./labels";
import type { Layer } from "./layer";
import { LinesLayer } from "./lines";

export interface Layers {
  /** The atoms: picking, selection and the atom count go through them. */
  atoms: AtomsLayer;
  bonds: BondsLayer;
  /** Every layer, in update order (the atoms first: others draw from their colours and
   * radii; the lines after the bonds, whose pairs they draw). */
  all: Layer[];
}

/** The layers, drawn as ``look`` says (representations, labels). */
export function createLayers(look: Look = new Look()): Layers {
  const atoms = new AtomsLayer(look);
  const bonds = new BondsLayer(atoms, look);
  return { atoms, bonds, all: [atoms, bonds, new LinesLayer(atoms, bonds), new LabelsLayer(look, atoms), new CellLayer()] };
}

export type { Layer, ShownFrame } from "./layer";
export { BOND_LIMIT } from "./bonds";
