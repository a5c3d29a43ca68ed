// Bundle js/index.ts into one ES module for anywidget: src/zndraw_widget/static/widget.js
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const options = {
  entryPoints: ["js/index.ts"],
  outfile: "src/zndraw_widget/static/widget.js",
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !watch,
  sourcemap: false,
  legalComments: "none",
  logLevel: "info",
  metafile: true,
  loader: { ".css": "text" },
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  const result = await esbuild.build(options);
  const bytes = Object.values(result.metafile.outputs)[0].bytes;
  console.log(`widget.js: ${(bytes / 1024).toFixed(0)} KiB`);
}
