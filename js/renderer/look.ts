// The look of the atoms: the ``style`` trait's schema (docs/widget.md "Looks"), its checks
// (the kernel checks it too, zndraw_widget/look.py; these keep a view safe from a bad one),
// and what it makes of each atom: representation, radius scale, bond radius, hidden.
import { SYMBOLS } from "../elements";

export const REPRESENTATIONS = ["ball-and-stick", "spacefill", "licorice", "lines"] as const;
export type Representation = (typeof REPRESENTATIONS)[number];

/** Which atoms a group or the labels apply to: indices, or the view's selection. */
export type AtomSet = number[] | "selection" | "all";

export interface Group {
  atoms?: number[] | "selection";
  elements?: string[];
  representation?: Representation;
  atom_scale?: number;
  bond_scale?: number;
  hidden?: boolean;
}

export interface Labels {
  /** "element", "index", or the name of a per-atom array ("charges" or "arrays.charges"). */
  text: string;
  atoms: AtomSet;
  /** Text height in CSS pixels. */
  size: number;
}

export interface Style {
  representation: Representation;
  atom_scale: number;
  bond_scale: number;
  bonds: boolean;
  /** Later groups win where they overlap. */
  groups: Group[];
  labels: Labels | null;
}

export const DEFAULT_STYLE: Style = {
  representation: "ball-and-stick",
  atom_scale: 1,
  bond_scale: 1,
  bonds: true,
  groups: [],
  labels: null,
};

const LABEL_DEFAULTS: Labels = { text: "element", atoms: "all", size: 14 };

export class StyleError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function check(ok: boolean, message: string): void {
  if (!ok) throw new StyleError(message);
}

function checkKeys(value: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(value)) check(allowed.includes(key), `${where}: unknown key ${JSON.stringify(key)} (known: ${allowed.join(", ")})`);
}

function representation(value: unknown, where: string): Representation {
  check((REPRESENTATIONS as readonly unknown[]).includes(value), `${where}: ${JSON.stringify(value)} is no representation (${REPRESENTATIONS.join(", ")})`);
  return value as Representation;
}

function scale(value: unknown, where: string): number {
  check(typeof value === "number" && Number.isFinite(value) && value > 0 && value <= 10, `${where}: a number in (0, 10], not ${JSON.stringify(value)}`);
  return value as number;
}

function indices(value: unknown, where: string): number[] {
  check(Array.isArray(value) && value.every((i) => Number.isInteger(i) && i >= 0), `${where}: a list of atom indices (integers >= 0)`);
  return value as number[];
}

function group(value: unknown, where: string): Group {
  check(isObject(value), `${where}: an object`);
  const g = value as Record<string, unknown>;
  checkKeys(g, ["atoms", "elements", "representation", "atom_scale", "bond_scale", "hidden"], where);
  check(g.atoms !== undefined || g.elements !== undefined, `${where}: needs "atoms" or "elements"`);
  const out: Group = {};
  if (g.atoms !== undefined) out.atoms = g.atoms === "selection" ? "selection" : indices(g.atoms, `${where}.atoms`);
  if (g.elements !== undefined) {
    check(Array.isArray(g.elements) && g.elements.every((e) => typeof e === "string" && SYMBOLS.includes(e)), `${where}.elements: a list of element symbols ("H", "O", ...)`);
    out.elements = g.elements as string[];
  }
  if (g.representation !== undefined) out.representation = representation(g.representation, `${where}.representation`);
  if (g.atom_scale !== undefined) out.atom_scale = scale(g.atom_scale, `${where}.atom_scale`);
  if (g.bond_scale !== undefined) out.bond_scale = scale(g.bond_scale, `${where}.bond_scale`);
  if (g.hidden !== undefined) {
    check(typeof g.hidden === "boolean", `${where}.hidden: true or false`);
    out.hidden = g.hidden as boolean;
  }
  return out;
}

function labels(value: unknown): Labels | null {
  if (value === null || value === undefined) return null;
  check(isObject(value), "style.labels: an object or null");
  const l = value as Record<string, unknown>;
  checkKeys(l, ["text", "atoms", "size"], "style.labels");
  const out = { ...LABEL_DEFAULTS };
  if (l.text !== undefined) {
    check(typeof l.text === "string" && l.text.length > 0, "style.labels.text: \"element\", \"index\" or a per-atom array's name");
    out.text = l.text as string;
  }
  if (l.atoms !== undefined) out.atoms = l.atoms === "all" || l.atoms === "selection" ? l.atoms : indices(l.atoms, "style.labels.atoms");
  if (l.size !== undefined) {
    check(typeof l.size === "number" && l.size >= 4 && l.size <= 200, "style.labels.size: pixels, 4 to 200");
    out.size = l.size as number;
  }
  return out;
}

/** The style ``value`` (the trait: any subset of the keys) with defaults filled in; throws
 * a StyleError naming the first bad key. */
export function parseStyle(value: unknown): Style {
  if (value === null || value === undefined) return { ...DEFAULT_STYLE };
  check(isObject(value), "style: an object");
  const v = value as Record<string, unknown>;
  checkKeys(v, Object.keys(DEFAULT_STYLE), "style");
  const style: Style = { ...DEFAULT_STYLE, groups: [] };
  if (v.representation !== undefined) style.representation = representation(v.representation, "style.representation");
  if (v.atom_scale !== undefined) style.atom_scale = scale(v.atom_scale, "style.atom_scale");
  if (v.bond_scale !== undefined) style.bond_scale = scale(v.bond_scale, "style.bond_scale");
  if (v.bonds !== undefined) {
    check(typeof v.bonds === "boolean", "style.bonds: true or false");
    style.bonds = v.bonds as boolean;
  }
  if (v.groups !== undefined) {
    check(Array.isArray(v.groups), "style.groups: a list");
    style.groups = (v.groups as unknown[]).map((g, i) => group(g, `style.groups[${i}]`));
  }
  style.labels = labels(v.labels);
  return style;
}

/** Representation codes in the per-atom array (HIDDEN: not drawn, no bonds). */
export const REP_CODE: Record<Representation, number> = { "ball-and-stick": 0, spacefill: 1, licorice: 2, lines: 3 };
export const HIDDEN = 255;

/** Bond radius (Å) of ball-and-stick at bond_scale 1; licorice draws atoms and bonds at
 * LICORICE_RADIUS; lines draw atoms as dots of DOT_RADIUS (so that they can be picked). */
export const BOND_RADIUS = 0.12;
export const LICORICE_RADIUS = 0.2;
export const DOT_RADIUS = 0.08;
/** Ball-and-stick atoms at this fraction of the covalent radius; spacefill at the full
 * van der Waals-like radius (covalent x SPACEFILL_SCALE). */
export const BALL_SCALE = 0.5;
export const SPACEFILL_SCALE = 1.5;

/** What each atom looks like under a style. */
export interface AtomLooks {
  /** REP_CODE per atom, or HIDDEN. */
  rep: Uint8Array;
  atomScale: Float32Array;
  bondScale: Float32Array;
}

function setOf(atoms: number[] | "selection" | "all", selection: ReadonlySet<number>): ReadonlySet<number> | null {
  if (atoms === "all") return null;
  return atoms === "selection" ? selection : new Set(atoms);
}

/** Each atom's look: the style's default, then each group in order. */
export function resolveLooks(style: Style, numbers: ArrayLike<number>, selection: ReadonlySet<number>): AtomLooks {
  const n = numbers.length;
  const rep = new Uint8Array(n).fill(REP_CODE[style.representation]);
  const atomScale = new Float32Array(n).fill(style.atom_scale);
  const bondScale = new Float32Array(n).fill(style.bond_scale);
  for (const g of style.groups) {
    const atoms = g.atoms === undefined ? null : setOf(g.atoms, selection);
    const elements = g.elements ? new Set(g.elements.map((s) => SYMBOLS.indexOf(s))) : null;
    const apply = (i: number) => {
      if (g.hidden) rep[i] = HIDDEN;
      else if (g.representation) rep[i] = REP_CODE[g.representation];
      if (g.atom_scale !== undefined) atomScale[i] = g.atom_scale;
      if (g.bond_scale !== undefined) bondScale[i] = g.bond_scale;
    };
    // An atom is in the group when its index or its element is named.
    if (atoms) for (const i of atoms) if (i < n) apply(i);
    if (elements) for (let i = 0; i < n; i++) if (elements.has(numbers[i]) && !atoms?.has(i)) apply(i);
  }
  return { rep, atomScale, bondScale };
}

/** The drawn radius of an atom of representation ``rep`` whose element (or frame) radius is
 * ``radius`` (covalent, Å); 0 when hidden. */
export function atomRadius(rep: number, radius: number, atomScale: number, bondScale: number): number {
  switch (rep) {
    case REP_CODE["ball-and-stick"]:
      return radius * BALL_SCALE * atomScale;
    case REP_CODE.spacefill:
      return radius * SPACEFILL_SCALE * atomScale;
    case REP_CODE.licorice:
      return LICORICE_RADIUS * bondScale;
    case REP_CODE.lines:
      return DOT_RADIUS * atomScale;
    default:
      return 0;
  }
}

/** How a bond between atoms of representations ``a`` and ``b`` is drawn. */
export const enum BondKind {
  None = 0,
  Stick = 1,
  Line = 2,
}

export function bondKind(a: number, b: number, bonds: boolean): BondKind {
  if (!bonds || a === HIDDEN || b === HIDDEN) return BondKind.None;
  if (a === REP_CODE.spacefill || b === REP_CODE.spacefill) return BondKind.None;
  if (a === REP_CODE.lines || b === REP_CODE.lines) return BondKind.Line;
  return BondKind.Stick;
}

/** The cylinder radius of a stick bond between atoms of representations ``a``, ``b``: the
 * smaller of their own (``atomStickRadius``). */
export function stickRadius(a: number, b: number, scaleA: number, scaleB: number): number {
  return Math.min(atomStickRadius(a, scaleA), atomStickRadius(b, scaleB));
}

/** The stick radius an atom of representation ``rep`` and bond scale ``scale`` gives its bonds. */
export function atomStickRadius(rep: number, scale: number): number {
  return (rep === REP_CODE.licorice ? LICORICE_RADIUS : BOND_RADIUS) * scale;
}

/** The look shared by the layers: the style and the selection it may refer to. ``version``
 * changes whenever what the layers draw from it changes. */
export class Look {
  style: Style = { ...DEFAULT_STYLE };
  selection: ReadonlySet<number> = new Set();
  version = 0;
  private cache: { numbers: ArrayLike<number>; version: number; looks: AtomLooks } | null = null;

  setStyle(style: Style): void {
    this.style = style;
    this.version++;
  }

  /** The selection changed: true when the look depends on it (and so changed too). */
  setSelection(selection: ReadonlySet<number>): boolean {
    this.selection = selection;
    const uses = this.style.groups.some((g) => g.atoms === "selection") || this.style.labels?.atoms === "selection";
    if (uses) this.version++;
    return uses;
  }

  /** Each atom's look for ``numbers`` (cached while nothing changed). */
  looks(numbers: ArrayLike<number>): AtomLooks {
    const c = this.cache;
    if (c && c.version === this.version && (c.numbers === numbers || sameArray(c.numbers, numbers))) return c.looks;
    const looks = resolveLooks(this.style, numbers, this.selection);
    this.cache = { numbers: Array.prototype.slice.call(numbers) as number[], version: this.version, looks };
    return looks;
  }
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
