// The three.js view of one frame: `view.ts` (the Renderer: WebGL, camera, render loop,
// picking) and the layers it draws (`layers/`).
export { BOND_LIMIT } from "./layers";
export { Renderer, softwareRendering } from "./view";
export type { RenderedInfo } from "./view";
