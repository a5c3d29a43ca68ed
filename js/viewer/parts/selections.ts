// The room's selections: one per user, shared through the server (PUT rooms/<r>/selection,
// `selection` events). This user's own selection is the view's (the gold rim, the widget's
// `selection` trait) and follows their other views and kernels; other people's are drawn
// as shells in each person's colour. DOM-free.
import type { SelectionEvent } from "../../protocol";
import type { NamedMarks } from "./legend";

export interface SelectionHost {
  /** The user this view acts as ("" until the control channel said). */
  user(): string;
  /** Share ``atoms`` as this user's selection. */
  send(atoms: number[]): Promise<unknown>;
  /** This user's selection was changed elsewhere (another view, a kernel): show it. */
  showOwn(atoms: number[]): void;
  /** Draw the other people's selections. */
  showOthers(groups: NamedMarks[]): void;
  /** Sharing failed (the selection stays local). */
  failed(error: Error): void;
}

/** A person's colour: the same in every view (a hue from their name). */
export function personColor(user: string): string {
  let hash = 2166136261;
  for (let i = 0; i < user.length; i++) hash = Math.imul(hash ^ user.charCodeAt(i), 16777619);
  // Hues away from the selection's gold (about 45 degrees).
  const hue = (90 + ((hash >>> 0) % 300)) % 360;
  return `hsl(${hue}, 80%, 45%)`;
}

export class SharedSelections {
  private others = new Map<string, number[]>();
  private mine: number[] = [];
  private sending = false;
  private queued: number[] | null = null;

  constructor(private readonly host: SelectionHost) {}

  /** People other than this user with a selection. */
  get othersCount(): number {
    return [...this.others.values()].filter((atoms) => atoms.length).length;
  }

  clear(): void {
    this.others.clear();
    this.mine = [];
    this.draw();
  }

  /** The selections of a room just (re)joined; ``current``: what the view has selected. The
   * room's selection of this user wins; without one, the view's is shared. */
  joined(selections: Record<string, number[]> | undefined, current: number[] = []): void {
    const user = this.host.user();
    this.others = new Map(Object.entries(selections ?? {}).filter(([who]) => who !== user));
    const own = selections?.[user];
    if (own === undefined) {
      this.mine = [];
      this.share(current);
    } else if (!this.sending && !same(own, this.mine)) {
      this.mine = own;
      this.host.showOwn(own);
    }
    this.draw();
  }

  event(event: SelectionEvent): void {
    const atoms = event.value ?? [];
    if (event.key === this.host.user()) {
      // While this view sends, its own echoes would undo newer clicks: they are ignored.
      if (this.sending || same(atoms, this.mine)) return;
      this.mine = atoms;
      this.host.showOwn(atoms);
      return;
    }
    if (atoms.length) this.others.set(event.key, atoms);
    else this.others.delete(event.key);
    this.draw();
  }

  /** This view selected ``atoms``: share them (the last of quick changes wins). */
  share(atoms: number[]): void {
    if (same(atoms, this.mine)) return;
    this.mine = atoms;
    if (this.sending) {
      this.queued = atoms;
      return;
    }
    void this.send(atoms);
  }

  private async send(atoms: number[]): Promise<void> {
    this.sending = true;
    let next: number[] | null = atoms;
    while (next) {
      this.queued = null;
      try {
        await this.host.send(next);
      } catch (error) {
        this.host.failed(error as Error);
      }
      next = this.queued;
    }
    this.sending = false;
  }

  private draw(): void {
    const groups = [...this.others].filter(([, atoms]) => atoms.length).map(([user, atoms]) => ({ user, color: personColor(user), atoms }));
    this.host.showOthers(groups);
  }
}

function same(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
