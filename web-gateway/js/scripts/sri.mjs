// `npm run sri`: the Subresource Integrity value of the file the gateway serves, and the tag that pins it.
// The same as `openssl dgst -sha384 -binary web-gateway/static/qrlogin.js | openssl base64 -A`.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { SERVED, build } from "./build.mjs";

const served = await readFile(SERVED);
if (served.toString("utf8") !== (await build())) {
  console.error("web-gateway/static/qrlogin.js is stale: run `npm run build` first");
  process.exit(1);
}
const { version } = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
const integrity = `sha384-${createHash("sha384").update(served).digest("base64")}`;
const gateway = process.argv[2] || "https://login.example.com";
console.log(integrity);
console.log(
  `<script type="module" src="${gateway}/static/qrlogin-${version}.js" integrity="${integrity}" crossorigin="anonymous"></script>`,
);
