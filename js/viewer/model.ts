// The widget's model (anywidget's, or the full page's in-page one): its traits, the token
// asked of the kernel, and the step trait kept in line with the view.

export interface Model {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  /** A custom message to the kernel (anywidget's models have it; a page's model may not). */
  send?(content: unknown): void;
}

/** Listens to a model, and stops listening on ``dispose``. */
export class ModelListeners {
  private listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(readonly model: Model) {}

  on(event: string, callback: (...args: any[]) => void): void {
    this.model.on(event, callback);
    this.listeners.push([event, callback]);
  }

  dispose(): void {
    for (const [event, callback] of this.listeners) this.model.off(event, callback);
  }
}

/** The token of a standalone server (``api_url`` set): from the page's model when it has
 * one (full page), else asked of the kernel, so that it is never saved in the notebook.
 * ``waiting`` is called when the kernel is asked. */
export function credentials(listeners: ModelListeners, waiting: () => void): Promise<string | undefined> {
  const { model } = listeners;
  const given = String(model.get("token") ?? "");
  if (given || !model.get("api_url") || !model.send) return Promise.resolve(given || undefined);
  waiting();
  return new Promise((resolve) => {
    const answer = (content: { type?: string; token?: string }) => {
      if (content?.type !== "credentials") return;
      model.off("msg:custom", answer);
      resolve(content.token || undefined);
    };
    listeners.on("msg:custom", answer);
    model.send!({ type: "credentials" });
  });
}

/** Milliseconds between step updates to the kernel while playing. */
const STEP_THROTTLE_MS = 250;

/** Tells the kernel where the view is (the ``step`` trait): at once when stepping, at most
 * ~4 times a second while playing. */
export class StepTrait {
  /** The step last sent (-1: none). */
  sent = -1;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly model: Model,
    /** The index on screen (-1: none) when the update goes out; null: the viewer is gone. */
    private readonly displayed: () => number | null,
  ) {}

  update(index: number, playing: boolean): void {
    if (index === this.sent || this.timer) return;
    const send = () => {
      this.timer = null;
      const displayed = this.displayed();
      if (displayed === null || displayed < 0 || displayed === this.sent) return;
      this.sent = displayed;
      this.model.set("step", displayed);
      this.model.save_changes();
    };
    if (playing) this.timer = setTimeout(send, STEP_THROTTLE_MS);
    else send();
  }
}
