// The package as the gateway and adopters see it: the served file is the build, the version follows the API,
// the module imports without a browser (server-side rendering), and the SRI recipe in the README is right.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { SERVED, build } from "../scripts/build.mjs";

const read = (path) => readFile(new URL(`../${path}`, import.meta.url), "utf8");

test("the gateway serves exactly the build of the source (run `npm run build` when this fails)", async () => {
  assert.equal(await readFile(SERVED, "utf8"), await build());
  // The same check as `npm run check`, which also covers the example page's pinned URL and hash.
  execFileSync(process.execPath, [new URL("../scripts/build.mjs", import.meta.url).pathname, "--check"], { stdio: "pipe" });
});

test("the package's major version is the HTTP API's, and the source says the same version", async () => {
  const { version } = JSON.parse(await read("package.json"));
  const api = JSON.parse(await read("../openapi.json"));
  const majors = new Set(Object.keys(api.paths).map((path) => path.match(/^\/v(\d+)\//)?.[1]).filter(Boolean));

  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual([...majors], [version.split(".")[0]]);
  assert.ok((await read("src/qrlogin.js")).includes(`export const VERSION = "${version}";`));
  assert.ok((await read("CHANGELOG.md")).includes(`## ${version}`), "CHANGELOG.md has an entry for this version");
});

test("imports in Node with no DOM at all, defining nothing", () => {
  const out = execFileSync(process.execPath, [
    "--input-type=module",
    "-e",
    `const m = await import(${JSON.stringify(new URL("../src/qrlogin.js", import.meta.url).href)});
     console.log(Object.keys(m).sort().join(","), typeof m.QrLogin.mount);`,
  ]);
  assert.equal(out.toString().trim(), "DEFAULT_MESSAGES,QrLogin,VERSION,createDpopKey,defineQrLoginElement function");
});

test("npm run sri prints the hash that openssl computes, and the pinned tag", async () => {
  const sri = execFileSync(process.execPath, [new URL("../scripts/sri.mjs", import.meta.url).pathname, "https://gw.test"]).toString();
  const expected = `sha384-${createHash("sha384").update(await readFile(SERVED)).digest("base64")}`;
  const { version } = JSON.parse(await read("package.json"));

  assert.equal(sri.split("\n")[0], expected);
  assert.ok(sri.includes(`<script type="module" src="https://gw.test/static/qrlogin-${version}.js" integrity="${expected}" crossorigin="anonymous"></script>`));
  let openssl;
  try {
    openssl = execFileSync("sh", ["-c", `openssl dgst -sha384 -binary '${SERVED}' | openssl base64 -A`]).toString();
  } catch (_) {
    return; // no openssl here: the Node hash above is the check
  }
  assert.equal(`sha384-${openssl}`, expected);
});
