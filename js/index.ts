// The anywidget entry point (bundled to src/zndraw_widget/static/widget.js); also the
// standalone server's room list page imports its share forms from here.
import type { Model } from "./viewer/model";
import { Viewer } from "./viewer/viewer";

export { shareForms } from "./share";

async function render({ model, el }: { model: Model; el: HTMLElement }): Promise<() => void> {
  const viewer = new Viewer(model, el);
  (el as HTMLElement & { zndraw?: Viewer }).zndraw = viewer;
  await viewer.start().catch((error) => console.error("zndraw viewer failed to start", error));
  return () => viewer.dispose();
}

export default { render };
