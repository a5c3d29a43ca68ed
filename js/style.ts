export const CSS = `
.zn-root { position: relative; display: flex; flex-direction: column; width: 100%; height: var(--zn-height, 480px);
  font: 12px/1.4 var(--jp-ui-font-family, system-ui, sans-serif); color: var(--jp-ui-font-color1, #222);
  border: 1px solid var(--jp-border-color2, #ddd); box-sizing: border-box; outline: none; }
.zn-root:focus-visible { border-color: var(--jp-brand-color1, #1976d2); }
.zn-view { position: relative; flex: 1; min-height: 0; overflow: hidden; background: var(--jp-layout-color0, #fff); }
.zn-message { position: absolute; inset: 0; display: none; align-items: center; justify-content: center; padding: 24px;
  text-align: center; background: var(--jp-layout-color1, #fafafa); color: var(--jp-ui-font-color1, #333); font-size: 13px; }
.zn-message.zn-error { color: var(--jp-error-color1, #c62828); }
.zn-message.zn-show { display: flex; }
.zn-banner { position: absolute; left: 8px; right: 8px; bottom: 8px; display: none; padding: 4px 8px; border-radius: 3px;
  background: var(--jp-warn-color3, #fff3cd); color: var(--jp-warn-color0, #7a5b00); border: 1px solid var(--jp-warn-color2, #ffe08a); }
.zn-banner.zn-show { display: block; }
.zn-status { position: absolute; left: 8px; top: 6px; opacity: 0.75; pointer-events: none; white-space: nowrap; }
.zn-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; padding: 4px 6px; border-top: 1px solid var(--jp-border-color2, #ddd);
  background: var(--jp-layout-color1, #f7f7f7); }
.zn-bar button { display: inline-flex; align-items: center; justify-content: center; min-width: 26px; height: 24px; padding: 0 6px; border: 1px solid var(--jp-border-color1, #bbb); border-radius: 3px;
  background: var(--jp-layout-color0, #fff); color: inherit; cursor: pointer; font: inherit; }
.zn-bar button[aria-pressed="true"] { background: var(--jp-brand-color1, #1976d2); border-color: var(--jp-brand-color1, #1976d2); color: #fff; }
.zn-bar input[type=range] { flex: 1; min-width: 60px; }
.zn-bar select { height: 24px; font: inherit; background: var(--jp-layout-color0, #fff); color: inherit; }
.zn-counter { min-width: 88px; text-align: right; font-variant-numeric: tabular-nums; }
.zn-fps { min-width: 48px; text-align: right; opacity: 0.7; font-variant-numeric: tabular-nums; }
`;
