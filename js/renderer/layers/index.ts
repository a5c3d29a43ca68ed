// The layers of the scene. Adding one: a file in this folder implementing Layer, plus its
// line in `all` below (the order in which they are updated).
import { Look } from "../look";
import { AtomsLayer } from "./atoms";
import { BondsLayer } from "./bonds";
import { CellLayer } from "./cell";
import { ImagesLayer } from "./images";
import { LabelsLayer } from "./labels";
import type { Layer } from "./layer";
import { LinesLayer } from "./lines";
import { MarksLayer } from "./marks";
import { MeasurementsLayer } from "./measurements";
import { VectorsLayer } from "./vectors";

export interface Layers {
  /** The atoms: picking, selection and the atom count go through them. */
  atoms: AtomsLayer;
  bonds: BondsLayer;
  /** Other people's selections, in their colours. */
  marks: MarksLayer;
  vectors: VectorsLayer;
  /** Periodic images of the atoms, bonds and arrows. */
  images: ImagesLayer;
  measurements: MeasurementsLayer;
  /** Every layer, in update order (the atoms first: others draw from their colours and
   * radii; the lines after the bonds, whose pairs they draw; the images after what they
   * repeat). */
  all: Layer[];
}

/** The layers, drawn as ``look`` says (representations, labels); measurement labels go
 * into ``overlay`` (an element over the canvas). */
export function createLayers(overlay: HTMLElement, look: Look = new Look()): Layers {
  const atoms = new AtomsLayer(look);
  const bonds = new BondsLayer(atoms, look);
  const vectors = new VectorsLayer();
  const images = new ImagesLayer([atoms, bonds, vectors]);
  const measurements = new MeasurementsLayer(overlay);
  const marks = new MarksLayer(atoms);
  const all = [atoms, bonds, new LinesLayer(atoms, bonds), vectors, new LabelsLayer(look, atoms), new CellLayer(), images, measurements, marks];
  return { atoms, bonds, vectors, images, measurements, marks, all };
}

export type { Layer, ShownFrame } from "./layer";
export { BOND_LIMIT } from "./bonds";
export type { MarkGroup } from "./marks";
export type { Measurement } from "./measurements";
