// Who is in the room and which leases others hold, from the join reply and then from
// events; and the status line that tells the user about them. DOM-free.
import type { Lease, LeaseEvent, Present, PresenceEvent } from "../protocol";
import { frameTarget, ORDER, PRESENTER } from "../protocol";

/** What the status line describes besides the people and locks. */
export interface StatusContext {
  room: string;
  /** This viewer's session. */
  self: string | undefined;
  presenting: boolean;
  /** Another session presenting (null: none). */
  presenter: string | null;
  follow: boolean;
  /** The id of the frame on screen. */
  frameId: string | undefined;
  /** A note on what the user may do (read-only), or null. */
  note?: string | null;
}

export interface Status {
  text: string;
  /** Sessions present. */
  present: number;
  /** Targets leased by other sessions. */
  locked: string[];
}

export class Presence {
  /** Sessions present. */
  private people = new Set<string>();
  /** Leases other than the presenter's (target -> holding session). */
  private locks = new Map<string, string>();
  /** The user of each session seen present or holding a lease. */
  private users = new Map<string, string>();

  get hasLocks(): boolean {
    return this.locks.size > 0;
  }

  clear(): void {
    this.people.clear();
    this.locks.clear();
    this.users.clear();
  }

  /** The state of a room just (re)joined. */
  joined(present: Present[], leases: Lease[]): void {
    this.people = new Set(present.map((p) => p.session));
    this.locks = new Map(leases.filter((l) => l.target !== PRESENTER).map((l) => [l.target, l.holder]));
    for (const p of present) this.named(p.session, p.user);
    for (const l of leases) this.named(l.holder, l.user);
  }

  /** A lease event (the presenter's too: its holder's name is kept, not the lock). */
  leased(event: LeaseEvent): void {
    if (event.holder) this.named(event.holder, event.user);
    if (event.target === PRESENTER) return;
    if (event.holder) this.locks.set(event.target, event.holder);
    else this.locks.delete(event.target);
  }

  presence(event: PresenceEvent): void {
    this.named(event.session, event.user);
    if (event.present) this.people.add(event.session);
    else this.people.delete(event.session);
  }

  /** Who holds a session: "you", its user's name, else (a server that does not say) the
   * session itself. */
  who(session: string, self: string | undefined): string {
    if (session === self) return "you";
    return this.users.get(session) ?? session;
  }

  /** The status line: room, a read-only note, others present, presenter, locks that
   * concern the user. */
  status(context: StatusContext): Status {
    const { self } = context;
    const parts = [`room ${context.room}`];
    if (context.note) parts.push(context.note);
    const others = [...this.people].filter((session) => session !== self).map((session) => this.who(session, self));
    if (others.length) parts.push(others.length <= 3 ? `with ${[...new Set(others)].join(", ")}` : `with ${others.length} others`);
    if (context.presenting) parts.push("presenting");
    else if (context.presenter && context.follow) parts.push(`following ${this.who(context.presenter, self)}`);
    const locked = [...this.locks].filter(([, holder]) => holder !== self);
    for (const [target, holder] of locked) {
      if (target === ORDER) parts.push(`frames locked by ${this.who(holder, self)}`);
      else if (context.frameId !== undefined && target === frameTarget(context.frameId)) parts.push(`this frame is being edited by ${this.who(holder, self)}`);
    }
    return { text: parts.join(" · "), present: this.people.size, locked: locked.map(([target]) => target) };
  }

  private named(session: string, user: string | null | undefined): void {
    if (user) this.users.set(session, user);
  }
}
