/**
 * Removes from the bundled dependencies what Node.js never loads, before the package is packed (bundled dependencies
 * ship whole, whatever the root .npmignore says): browser builds, source maps, TypeScript sources, tests and
 * benchmarks. Their entry points (`main`) and runtime files stay. Run by the pre-compile task.
 */
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const UNUSED_FOLDERS = {
  nunjucks: ['browser'],
  yaml: ['browser'],
  ajv: ['lib'], // TypeScript sources: ajv runs from dist/
  'fast-uri': ['test', 'benchmark', '.github'],
};

/** The bundled packages and, transitively, their dependencies. */
function bundledPackages() {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    const manifest = path.join(root, 'node_modules', name, 'package.json');
    if (!fs.existsSync(manifest)) return;
    seen.add(name);
    const deps = JSON.parse(fs.readFileSync(manifest, 'utf8')).dependencies ?? {};
    Object.keys(deps).forEach(visit);
  };
  (pkg.bundledDependencies ?? []).forEach(visit);
  return [...seen];
}

function removeMaps(directory) {
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) removeMaps(full);
    else if (entry.name.endsWith('.map')) fs.rmSync(full);
  }
}

for (const name of bundledPackages()) {
  const directory = path.join(root, 'node_modules', name);
  for (const folder of UNUSED_FOLDERS[name] ?? []) fs.rmSync(path.join(directory, folder), { recursive: true, force: true });
  removeMaps(directory);
}
