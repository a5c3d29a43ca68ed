// The caller's role in the room shown (from the room's info: the join reply, and again on
// each `access` event): whether this viewer may edit, and the note a read-only one shows.
// DOM-free.
import type { RoomInfo } from "../data";
import type { Role } from "../protocol";

/** What the access part reads from and tells the viewer. */
export interface AccessHost {
  /** Read the room's info again (its owner and the caller's role in it). */
  reread(): Promise<Pick<RoomInfo, "owner" | "role">>;
  /** The role or the owner changed. */
  changed(): void;
  /** Re-reading the room failed (it may no longer be readable). */
  failed(error: unknown): void;
}

export class RoomAccess {
  /** The room's owner (null: none, or not known). */
  owner: string | null = null;
  /** The caller's role (null: not known, as from a server without access control). */
  role: Role | null = null;
  private generation = 0;

  constructor(private readonly host: AccessHost) {}

  /** Only reading is allowed: no edits, no leases. */
  get readOnly(): boolean {
    return this.role === "read" || this.role === "none";
  }

  /** The status note of a read-only viewer (null: it may write). */
  get note(): string | null {
    return this.readOnly ? `read-only: ${this.owner ?? "the room's owner"} may give you write access` : null;
  }

  /** Another room (or none) is opened: nothing known yet. */
  clear(): void {
    this.generation += 1;
    this.set(null, null);
  }

  /** The room's info as read (its ``owner`` and the caller's ``role``, when the server has them). */
  update(info: Pick<RoomInfo, "owner" | "role"> | undefined): void {
    this.set(info?.owner ?? null, info?.role ?? null);
  }

  /** The room's access changed (an ``access`` event): read the room again. */
  async changedOnServer(): Promise<void> {
    const generation = ++this.generation;
    let info: Pick<RoomInfo, "owner" | "role">;
    try {
      info = await this.host.reread();
    } catch (error) {
      if (generation === this.generation) this.host.failed(error);
      return;
    }
    if (generation === this.generation) this.update(info); // else a newer read or room wins
  }

  private set(owner: string | null, role: Role | null): void {
    if (owner === this.owner && role === this.role) return;
    this.owner = owner;
    this.role = role;
    this.host.changed();
  }
}
