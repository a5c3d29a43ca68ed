// The view's background follows JupyterLab's theme (light or dark), as the theme changes.
import type { Renderer } from "../renderer";

/** Set the renderer's background from the page's theme now and on every theme change;
 * returns the function that stops watching. */
export function followTheme(view: HTMLElement, renderer: Renderer): () => void {
  const apply = () => {
    const color = getComputedStyle(view).getPropertyValue("--jp-layout-color0").trim() || getComputedStyle(view).backgroundColor;
    renderer.setBackground(color && color !== "rgba(0, 0, 0, 0)" ? color : "#ffffff");
  };
  apply();
  const observer = new MutationObserver(apply);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  return () => observer.disconnect();
}
