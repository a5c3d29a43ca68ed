// Whose selections the view marks: a line of names in their colours (bottom left).
import type { MarkGroup } from "../../renderer/layers";

const CSS = `
.zn-legend { position: absolute; left: 8px; bottom: 8px; display: flex; flex-wrap: wrap; gap: 8px; font-size: 11px; pointer-events: none; }
.zn-legend span::before { content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 4px; border-radius: 50%; background: currentColor; }
`;

/** A person's marked atoms, named. */
export type NamedMarks = MarkGroup & { user: string };

export class SelectionLegend {
  readonly element = document.createElement("div");

  constructor(container: HTMLElement) {
    const style = document.createElement("style");
    style.textContent = CSS;
    this.element.className = "zn-legend";
    container.append(style, this.element);
  }

  show(groups: NamedMarks[]): void {
    this.element.replaceChildren(
      ...groups.map(({ user, color, atoms }) => {
        const entry = document.createElement("span");
        entry.style.color = color;
        entry.textContent = `${user} (${atoms.length})`;
        entry.title = `${user} has selected ${atoms.length} atoms`;
        return entry;
      }),
    );
  }
}
