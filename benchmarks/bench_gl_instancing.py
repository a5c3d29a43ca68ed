"""What a draw of many small objects costs this browser's WebGL, drawn five ways, and its floor.

Raw WebGL2 in headless Chromium (SwiftShader on a machine without a GPU): 270,000 small
quads (a 3 x 3 x 3 repeat of 10,000 atoms) as instanced quads in one call and in 27 calls,
as points, as plain triangles, and as triangles whose vertex shader fetches each centre
from a float texture by ``gl_VertexID``. Median ms of five draws, each waited for with
``readPixels``. Then the floor: the cheapest object there is (a 1-pixel point of one colour, no
depth test) drawn 10,000, 100,000 and 270,000 times, which bounds how many objects any
renderer can draw in this GL within a 20 frames/s frame (50 ms). See ``benchmarks/README.md``.

    python benchmarks/bench_gl_instancing.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the tests' browser settings)

COUNT = 270_000

DRAWS = """(N) => {
const canvas = document.createElement('canvas'); canvas.width = 900; canvas.height = 600;
document.body.append(canvas);
const gl = canvas.getContext('webgl2');
function program(vertex, fragment) {
  const p = gl.createProgram();
  for (const [type, source] of [[gl.VERTEX_SHADER, vertex], [gl.FRAGMENT_SHADER, fragment]]) {
    const shader = gl.createShader(type); gl.shaderSource(shader, source); gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
    gl.attachShader(p, shader);
  }
  gl.linkProgram(p); gl.useProgram(p); gl.bindVertexArray(gl.createVertexArray());
  return p;
}
function buffer(p, name, data, size, divisor = 0) {
  gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer()); gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
  const at = gl.getAttribLocation(p, name);
  gl.enableVertexAttribArray(at); gl.vertexAttribPointer(at, size, gl.FLOAT, false, 0, 0); gl.vertexAttribDivisor(at, divisor);
}
const FRAGMENT = `#version 300 es
precision highp float; out vec4 o; void main() { o = vec4(1.0, 0.0, 0.0, 1.0); }`;
const centres = new Float32Array(N * 3).map(() => Math.random() * 2 - 1);
const CORNERS = [-1, -1, 1, -1, 1, 1, -1, -1, 1, 1, -1, 1];
const pixel = new Uint8Array(4);
const time = (draw) => {
  const ms = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT); draw();
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[2];
};
gl.enable(gl.DEPTH_TEST);
const out = {};
let p = program(`#version 300 es
in vec2 corner; in vec3 centre;
void main() { gl_Position = vec4(centre.xy + corner * 0.004, centre.z * 0.5, 1.0); }`, FRAGMENT);
buffer(p, 'corner', new Float32Array(CORNERS), 2);
buffer(p, 'centre', centres, 3, 1);
out["instanced quads, one call"] = time(() => gl.drawArraysInstanced(gl.TRIANGLES, 0, 6, N));
out["instanced quads, 27 calls"] = time(() => { for (let k = 0; k < 27; k++) gl.drawArraysInstanced(gl.TRIANGLES, 0, 6, N / 27); });
p = program(`#version 300 es
in vec3 centre; void main() { gl_Position = vec4(centre.xy, centre.z * 0.5, 1.0); gl_PointSize = 3.0; }`, FRAGMENT);
buffer(p, 'centre', centres, 3);
out["points"] = time(() => gl.drawArrays(gl.POINTS, 0, N));
const expanded = new Float32Array(N * 12);
for (let i = 0; i < N; i++) for (let k = 0; k < 12; k++) expanded[12 * i + k] = centres[3 * i + (k % 2)] + CORNERS[k] * 0.004;
p = program(`#version 300 es
in vec2 v; void main() { gl_Position = vec4(v, 0.0, 1.0); }`, FRAGMENT);
buffer(p, 'v', expanded, 2);
out["triangles (6 vertices a quad, built in JS)"] = time(() => gl.drawArrays(gl.TRIANGLES, 0, N * 6));
const W = 2048, H = Math.ceil(N / W);
const padded = new Float32Array(W * H * 3); padded.set(centres);
gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB32F, W, H, 0, gl.RGB, gl.FLOAT, padded);
gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
program(`#version 300 es
uniform highp sampler2D centres;
const vec2 corners[6] = vec2[6](vec2(-1, -1), vec2(1, -1), vec2(1, 1), vec2(-1, -1), vec2(1, 1), vec2(-1, 1));
void main() {
  int atom = gl_VertexID / 6;
  vec3 c = texelFetch(centres, ivec2(atom % ${W}, atom / ${W}), 0).xyz;
  gl_Position = vec4(c.xy + corners[gl_VertexID % 6] * 0.004, c.z * 0.5, 1.0);
}`, FRAGMENT);
out["triangles pulling centres from a texture"] = time(() => gl.drawArrays(gl.TRIANGLES, 0, N * 6));
gl.disable(gl.DEPTH_TEST);
p = program(`#version 300 es
in vec3 centre; void main() { gl_Position = vec4(centre.xy, 0.0, 1.0); gl_PointSize = 1.0; }`, FRAGMENT);
buffer(p, 'centre', centres, 3);
out.floor = {};
for (const n of [10000, 100000, N]) out.floor[n] = time(() => gl.drawArrays(gl.POINTS, 0, n));
const info = gl.getExtension('WEBGL_debug_renderer_info');
out.renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
return out;
}"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(300_000)
        result = page.evaluate(DRAWS, COUNT)
        version = browser.version
        browser.close()
    renderer = result.pop("renderer")
    floor = result.pop("floor")
    base = result["instanced quads, one call"]
    print(f"\n{COUNT:,} small quads, headless Chromium {version} ({renderer})")
    print(f"{'drawn as':<46} {'ms a draw':>10} {'vs instanced':>13}")
    for name, ms in result.items():
        print(f"{name:<46} {ms:>10.1f} {ms / base:>12.2f}x")
    print("\nfloor: 1-pixel points, one colour, no depth test")
    print(f"{'points':>10} {'ms a draw':>10} {'us a point':>11} {'frames/s':>9}")
    for count, ms in floor.items():
        print(f"{int(count):>10,} {ms:>10.1f} {1000 * ms / int(count):>11.2f} {1000 / ms:>9.1f}")
    per_point = (floor[str(COUNT)] - floor["10000"]) / (COUNT - 10_000)  # ms, less the fixed cost
    print(f"objects drawable in a 20 frames/s frame (50 ms) at this rate: {50 / per_point:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
