// Where the API is: an explicit URL (standalone server), else the Jupyter page's base URL.

export function jupyterBaseUrl(doc: Document = document): string {
  const script = doc.getElementById("jupyter-config-data");
  if (script?.textContent) {
    try {
      const config = JSON.parse(script.textContent) as { baseUrl?: string };
      if (config.baseUrl) return config.baseUrl;
    } catch {
      /* fall through */
    }
  }
  const fromBody = doc.body?.dataset?.baseUrl;
  if (fromBody) return fromBody;
  return "/";
}

export function apiUrlOf(explicit: string, doc?: Document, origin?: string): string {
  if (explicit) {
    const url = explicit.replace(/\/+$/, "") + "/";
    return url.endsWith("zndraw/api/") ? url : url + "zndraw/api/";
  }
  const base = jupyterBaseUrl(doc ?? document);
  return new URL(base.replace(/\/?$/, "/") + "zndraw/api/", origin ?? location.origin).href;
}

export function websocketUrl(apiUrl: string, session: string, token?: string): string {
  const url = new URL(apiUrl + "ws", typeof location !== "undefined" ? location.href : undefined);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("session", session);
  if (token) url.searchParams.set("token", token);
  return url.href;
}

export function newSessionId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return "widget-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
