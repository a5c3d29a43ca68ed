// The lighting the atom and bond shaders share (GLSL): one directional light, a specular
// highlight, and the selection's gold rim.

export const SHADE_GLSL = /* glsl */ `
vec3 shade(vec3 color, vec3 n, vec3 viewPos, float selected) {
  vec3 l = normalize(vec3(0.35, 0.55, 1.0));
  float diff = max(dot(n, l), 0.0);
  vec3 v = normalize(-viewPos);
  float spec = pow(max(dot(reflect(-l, n), v), 0.0), 40.0);
  vec3 c = color * (0.38 + 0.62 * diff) + vec3(0.22) * spec;
  float rim = 1.0 - max(dot(n, v), 0.0);
  return mix(c, vec3(1.0, 0.8, 0.1), selected * (0.35 + 0.65 * smoothstep(0.45, 0.8, rim)));
}`;
