// The layers of the scene. Adding one: a file in this folder implementing Layer, plus its
// line in `all` below (the order in which they are updated).
import { AtomsLayer } from "./atoms";
import { BondsLayer } from "./bonds";
import { CellLayer } from "./cell";
import { ImagesLayer } from "./images";
import type { Layer } from "./layer";
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
  /** Every layer, in update order (the atoms first: others draw from their colours; the
   * images after what they repeat). */
  all: Layer[];
}

/** The layers; labels go into ``overlay`` (an element over the canvas). */
export function createLayers(overlay: HTMLElement): Layers {
  const atoms = new AtomsLayer();
  const bonds = new BondsLayer(atoms);
  const vectors = new VectorsLayer();
  const images = new ImagesLayer([atoms, bonds, vectors]);
  const measurements = new MeasurementsLayer(overlay);
  const marks = new MarksLayer(atoms);
  return { atoms, bonds, vectors, images, measurements, marks, all: [atoms, bonds, vectors, new CellLayer(), images, measurements, marks] };
}

export type { Layer, ShownFrame } from "./layer";
export { BOND_LIMIT } from "./bonds";
export type { MarkGroup } from "./marks";
export type { Measurement } from "./measurements";
