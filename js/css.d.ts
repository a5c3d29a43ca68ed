// CSS files imported by the bundle come in as text (js/build.mjs: loader "text").
declare module "*.css" {
  const text: string;
  export default text;
}
