// The share forms of the standalone server's room list (src/zndraw_widget/server/pages.py
// renders one per room the user administers; this wires them). A change is a
// read-modify-write of the room's access: GET it, give or take back one grant, PUT it.
import { Access, DataClient } from "./data";
import { apiUrlOf, newSessionId } from "./env";

/** A role one may grant. */
export type GrantRole = Access["grants"][string];

/** The grant key of ``kind`` ("user", "group" or "everyone") and ``name``; null when a
 * user or group has no name. */
export function grantKey(kind: string, name: string): string | null {
  if (kind === "everyone") return "*";
  name = name.trim();
  return name && (kind === "user" || kind === "group") ? `${kind}:${name}` : null;
}

/** ``grants`` with ``key`` given ``role`` (null: taken back). */
export function withGrant(grants: Access["grants"], key: string, role: GrantRole | null): Access["grants"] {
  const changed = { ...grants };
  if (role) changed[key] = role;
  else delete changed[key];
  return changed;
}

/** Give ``key`` ``role`` in ``room`` (null: take its grant back); the room's new access. */
export async function share(data: DataClient, room: string, key: string, role: GrantRole | null): Promise<Access> {
  const { grants } = await data.access(room);
  return data.setAccess(room, { grants: withGrant(grants, key, role) });
}

/** The grants in words: "shared with user:ben (write), * (read)". */
export function describeGrants(grants: Access["grants"]): string {
  const entries = Object.entries(grants).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return "not shared";
  return "shared with " + entries.map(([key, role]) => `${key === "*" ? "everyone" : key} (${role})`).join(", ");
}

/** Wire each ``form[data-zndraw-share=<room>]`` of ``doc``: its ``<output>`` shows the
 * room's grants (read each time its ``<details>`` opens) and the outcome of each change.
 * The requests go with the page's login cookie and a session header of their own. */
export function shareForms(doc: Document = document, data?: DataClient): void {
  const client = data ?? new DataClient({ apiUrl: apiUrlOf("", doc), session: newSessionId() });
  for (const form of doc.querySelectorAll<HTMLFormElement>("form[data-zndraw-share]")) {
    const room = form.dataset.zndrawShare ?? "";
    const say = (text: string) => {
      const output = form.querySelector("output");
      if (output) output.textContent = text;
    };
    const show = (access: Promise<Access>) =>
      access.then(
        ({ grants }) => say(describeGrants(grants)),
        (error: Error) => say(error.message),
      );
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null)?.value ?? "";
    const details = form.closest("details");
    details?.addEventListener("toggle", () => {
      if (details.open) void show(client.access(room));
    });
    if (details?.open) void show(client.access(room)); // opened before this script ran
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = grantKey(field("kind"), field("name"));
      if (!key) return say("name the user or group");
      const role = field("role");
      say("saving…");
      void show(share(client, room, key, role === "remove" ? null : (role as GrantRole)));
    });
  }
}
