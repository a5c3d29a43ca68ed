// The view's background follows the page's theme: JupyterLab's (light or dark) in a
// notebook, the system's colour scheme elsewhere (js/style.ts), as either changes.
import type { Renderer } from "../renderer";

/** Set the renderer's background from the page's theme now and on every theme change
 * (then ``changed`` is called too); returns the function that stops watching. */
export function followTheme(view: HTMLElement, renderer: Renderer, changed?: () => void): () => void {
  const set = () => {
    const color = getComputedStyle(view).getPropertyValue("--jp-layout-color0").trim() || getComputedStyle(view).backgroundColor;
    renderer.setBackground(color && color !== "rgba(0, 0, 0, 0)" ? color : "#ffffff");
  };
  const apply = () => {
    set();
    changed?.();
  };
  set();
  apply();
  const observer = new MutationObserver(apply);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  const scheme = window.matchMedia?.("(prefers-color-scheme: dark)");
  scheme?.addEventListener("change", apply);
  return () => {
    observer.disconnect();
    scheme?.removeEventListener("change", apply);
  };
}
