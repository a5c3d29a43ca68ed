// Keeping up with a room: data events bump the room's seq by one; a gap (or a reconnect)
// is closed by asking GET rooms/<room>/events?since=<seq> (docs/protocol.md).
import type { EventsSince } from "./data";
import { DataEvent, isDataEvent, RoomEvent } from "./protocol";

/** Room events that are not data changes. */
export type OtherEvent = Exclude<RoomEvent, DataEvent>;

export interface SyncHandlers {
  /** Data changes, in order (each once). */
  onData: (events: DataEvent[]) => void;
  /** The log no longer reaches back: re-read the room. */
  onReload: () => void;
  /** Non-data events (step, lease, presence, room_deleted), after any resync they needed. */
  onOther?: (event: OtherEvent) => void;
  onError?: (error: Error) => void;
}

export class RoomSync {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    public seq: number,
    private readonly since: (seq: number) => Promise<EventsSince>,
    private readonly handlers: SyncHandlers,
  ) {}

  /** An event from the control channel. */
  handle(event: RoomEvent): void {
    const seq = typeof event.seq === "number" ? event.seq : undefined;
    if (isDataEvent(event)) {
      if (seq === undefined) return;
      if (seq <= this.seq) return; // seen (e.g. fetched during a resync)
      if (seq === this.seq + 1 && !this.running) {
        this.seq = seq;
        this.handlers.onData([event]);
        return;
      }
      void this.resync();
      return;
    }
    if (seq !== undefined && seq > this.seq) void this.resync();
    this.handlers.onOther?.(event);
  }

  /** Resolves once no resync is running. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Fetch what was missed since ``seq`` (after a gap or a reconnect). */
  resync(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const result = await this.since(this.seq);
          if (result.reload) {
            this.seq = result.seq;
            this.handlers.onReload();
            continue;
          }
          const fresh = result.events.filter((e) => typeof e.seq === "number" && e.seq > this.seq);
          fresh.sort((a, b) => a.seq - b.seq);
          if (fresh.length) {
            this.seq = fresh[fresh.length - 1].seq;
            this.handlers.onData(fresh);
          }
          if (result.seq > this.seq) this.seq = result.seq;
        } while (this.again);
      } catch (error) {
        this.handlers.onError?.(error as Error);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
