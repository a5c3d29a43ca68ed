// What a room shares besides frames, over the data channel (docs/protocol.md "Selection and
// bookmarks"): each user's selection and the room's bookmarks. Changes come back to every
// view as `selection` and `bookmark` events.
import type { DataClient } from "./data";
import type { Bookmark } from "./protocol";

/** Share this user's selection with the room. */
export function putSelection(data: DataClient, room: string, atoms: number[]): Promise<{ user: string; atoms: number[] }> {
  return data.json("PUT", `${data.roomPath(room)}/selection`, { atoms });
}

export function putBookmark(data: DataClient, room: string, name: string, bookmark: Bookmark): Promise<Bookmark & { name: string }> {
  return data.json("PUT", `${data.roomPath(room)}/bookmarks/${encodeURIComponent(name)}`, bookmark);
}

export function deleteBookmark(data: DataClient, room: string, name: string): Promise<void> {
  return data.json("DELETE", `${data.roomPath(room)}/bookmarks/${encodeURIComponent(name)}`);
}
