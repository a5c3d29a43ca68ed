// The viewer's CSS. Colours come from JupyterLab's theme variables where the page has them
// (the notebook); elsewhere (the standalone page) from the system's colour scheme.
export const CSS = `
.zn-root { --zn-bg: var(--jp-layout-color0, #fff); --zn-bg1: var(--jp-layout-color1, #f7f7f7); --zn-fg: var(--jp-ui-font-color1, #222);
  --zn-border: var(--jp-border-color2, #ddd); --zn-border1: var(--jp-border-color1, #bbb); --zn-accent: var(--jp-brand-color1, #1976d2);
  --zn-error: var(--jp-error-color1, #c62828); }
@media (prefers-color-scheme: dark) {
  .zn-root { --zn-bg: var(--jp-layout-color0, #111); --zn-bg1: var(--jp-layout-color1, #1e1e1e); --zn-fg: var(--jp-ui-font-color1, #ddd);
    --zn-border: var(--jp-border-color2, #3a3a3a); --zn-border1: var(--jp-border-color1, #555); --zn-accent: var(--jp-brand-color1, #42a5f5);
    --zn-error: var(--jp-error-color1, #ef5350); }
}
.zn-root { position: relative; display: flex; flex-direction: column; width: 100%; height: var(--zn-height, 480px);
  font: 12px/1.4 var(--jp-ui-font-family, system-ui, sans-serif); color: var(--zn-fg);
  border: 1px solid var(--zn-border); box-sizing: border-box; outline: none; background: var(--zn-bg); }
.zn-root:focus-visible { border-color: var(--zn-accent); }
.zn-view { position: relative; flex: 1; min-height: 0; overflow: hidden; background: var(--zn-bg); }
.zn-message { position: absolute; inset: 0; display: none; align-items: center; justify-content: center; padding: 24px;
  text-align: center; background: var(--zn-bg1); color: var(--zn-fg); font-size: 13px; }
.zn-message.zn-error { color: var(--zn-error); }
.zn-message.zn-show { display: flex; }
.zn-banner { position: absolute; left: 8px; right: 8px; bottom: 8px; display: none; padding: 4px 8px; border-radius: 3px;
  background: var(--jp-warn-color3, #fff3cd); color: var(--jp-warn-color0, #7a5b00); border: 1px solid var(--jp-warn-color2, #ffe08a); }
.zn-banner.zn-show { display: block; }
.zn-status { position: absolute; left: 8px; top: 6px; opacity: 0.75; pointer-events: none; white-space: nowrap; }
/* One row down to ~600 px (the look controls are in the View menu); narrower, it wraps. */
.zn-bar { position: relative; display: flex; flex-wrap: wrap; align-items: center; gap: 3px; padding: 4px 5px; border-top: 1px solid var(--zn-border);
  background: var(--zn-bg1); }
.zn-bar button { display: inline-flex; align-items: center; justify-content: center; gap: 2px; min-width: 26px; height: 24px; padding: 0 5px; border: 1px solid var(--zn-border1); border-radius: 3px;
  background: var(--zn-bg); color: inherit; cursor: pointer; font: inherit; white-space: nowrap; }
.zn-bar button:focus-visible, .zn-bar select:focus-visible, .zn-bar input:focus-visible { outline: 2px solid var(--zn-accent); outline-offset: 1px; }
.zn-bar button[aria-pressed="true"], .zn-bar button[aria-expanded="true"] { background: var(--zn-accent); border-color: var(--zn-accent); color: #fff; }
.zn-bar input[type=range] { flex: 1; min-width: 40px; }
.zn-bar select { height: 24px; font: inherit; background: var(--zn-bg); color: inherit; }
.zn-counter { min-width: 6ch; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.zn-fps { min-width: 3ch; text-align: right; opacity: 0.7; font-variant-numeric: tabular-nums; }
.zn-fps:empty { display: none; }
.zn-popover { position: absolute; right: 6px; bottom: calc(100% + 4px); z-index: 3; display: flex; flex-direction: column; gap: 4px;
  padding: 6px 8px; background: var(--zn-bg1); border: 1px solid var(--zn-border); border-radius: 3px; box-shadow: 0 2px 6px #0003; }
.zn-popover[hidden] { display: none; }
.zn-popover:focus { outline: none; }
.zn-row { display: flex; align-items: center; gap: 4px; white-space: nowrap; }
.zn-row > span:first-child { min-width: 7.5em; margin-right: 4px; }
.zn-row select { flex: 1; }
`;
