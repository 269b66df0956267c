// The API types, generated from the services' OpenAPI documents (openapi/*.json,
// written by scripts/openapi.py at the repository root) into src/api/types/.
// `npm run check` type-checks the UI against them: a contract change that breaks
// the UI fails the build.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";

const out = new URL("../src/api/types/", import.meta.url);
mkdirSync(out, { recursive: true });
for (const file of readdirSync(new URL("../openapi/", import.meta.url))) {
  if (!file.endsWith(".json")) continue;
  const schema = JSON.parse(readFileSync(new URL(`../openapi/${file}`, import.meta.url), "utf8"));
  const ast = await openapiTS(schema);
  const header = `// Generated from openapi/${file} by scripts/gen-types.mjs: do not edit.\n`;
  writeFileSync(new URL(file.replace(/\.json$/, ".ts"), out), header + astToString(ast));
}
