// `npm run build`: bundle the designers (BPMN and DMN) and the case diagram's viewer with
// esbuild into ../static/build/ and copy the stylesheets and icon font bpmn-js and the
// properties panel need next to it (served by Flask as static files, so the CSP can stay
// 'self').
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'static', 'build');
const modules = join(here, 'node_modules');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: ['designer.js', 'dmn.js', 'viewer.js'].map((name) => join(here, 'src', name)),
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['es2020'],
  outdir: out,
  logLevel: 'warning'
});

const copies = [
  ['bpmn-js/dist/assets/diagram-js.css', 'diagram-js.css'],
  ['bpmn-js/dist/assets/bpmn-js.css', 'bpmn-js.css'],
  ['bpmn-js/dist/assets/bpmn-font', 'bpmn-font'],
  ['@bpmn-io/properties-panel/dist/assets/properties-panel.css', 'properties-panel.css'],
  ['dmn-js/dist/assets', 'dmn-js']
];
for (const [from, to] of copies) {
  cpSync(join(modules, from), join(out, to), { recursive: true });
}
for (const sheet of ['designer.css', 'viewer.css']) {
  cpSync(join(here, 'src', sheet), join(out, sheet));
}
console.log(`built ${out}`);
