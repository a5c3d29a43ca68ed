// Undo and redo of this view's own changes (Ctrl+Z, Ctrl+Shift+Z): the server's per-session
// undo (POST rooms/<r>/undo|redo), the same the kernel's Room has. The change comes back to
// every view as an event; a refusal (someone else changed the frame since, it is locked,
// nothing to undo) is said in a banner.
import { ApiError, DataClient } from "../../data";

export type HistoryAction = "undo" | "redo";

export interface HistoryHost {
  room(): string;
  data(): DataClient;
  readOnly(): boolean;
  /** Resolves once this view's edits in flight are saved (they come before an undo). */
  settled(): Promise<void>;
  /** The name to show for a session (a lock's holder). */
  who(session: string): string;
  banner(text: string): void;
  /** ``action`` finished with ``outcome`` ("ok" or the server's error code). */
  done(action: HistoryAction, outcome: string): void;
}

export class History {
  private busy = false;

  constructor(private readonly host: HistoryHost) {}

  async run(action: HistoryAction): Promise<void> {
    const { host } = this;
    if (this.busy || !host.room()) return;
    if (host.readOnly()) {
      host.banner(`this room is read-only for you: nothing to ${action}`);
      host.done(action, "read_only");
      return;
    }
    this.busy = true;
    try {
      await host.settled();
      await host.data().replay(host.room(), action);
      host.done(action, "ok");
    } catch (error) {
      const code = error instanceof ApiError ? error.code : "error";
      host.banner(refusal(action, error as Error, host));
      host.done(action, code);
    } finally {
      this.busy = false;
    }
  }
}

/** What to tell the user when ``action`` was refused. */
function refusal(action: HistoryAction, error: Error, host: HistoryHost): string {
  if (!(error instanceof ApiError)) return `${action} failed: ${error.message}`;
  if (error.code === "not_found" && error.message.startsWith("nothing to")) return `nothing to ${action} (your own changes in this view only)`;
  if (error.code === "conflict") return `cannot ${action}: someone else changed it since (${error.message.replace(/: it cannot be undone or redone$/, "")})`;
  if (error.code === "locked") {
    const holder = typeof error.details.holder === "string" ? host.who(error.details.holder) : "someone else";
    return `cannot ${action}: it is being edited by ${holder}; try again once they are done`;
  }
  return `${action} failed: ${error.message}`;
}
