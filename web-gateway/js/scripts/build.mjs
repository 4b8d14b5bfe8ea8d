// `npm run build`: writes the file the gateway serves (web-gateway/static/qrlogin.js, embedded in the binary)
// from the package's source, after checking that the source's VERSION is the package's version (the gateway
// serves the same bytes as /static/qrlogin-<version>.js).
// It also pins the example page (examples/cross-origin.html) to that versioned URL and its SRI hash.
// `npm run check` (`--check`): writes nothing, fails when either file is not what the build would write.
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = new URL("..", import.meta.url);
export const SOURCE = fileURLToPath(new URL("src/qrlogin.js", root));
export const SERVED = fileURLToPath(new URL("../static/qrlogin.js", root));
export const EXAMPLE = fileURLToPath(new URL("examples/cross-origin.html", root));
const PINNED = /\/static\/qrlogin-[^"]*\.js" integrity="[^"]*"/;

/** What the gateway must serve: the source itself, once its VERSION is known to match package.json. */
export async function build() {
  const { version } = JSON.parse(await readFile(new URL("package.json", root), "utf8"));
  const source = await readFile(SOURCE, "utf8");
  const declared = source.match(/^export const VERSION = "([^"]+)";$/m)?.[1];
  if (declared !== version) {
    throw new Error(`src/qrlogin.js says VERSION = ${JSON.stringify(declared)}, package.json says ${version}`);
  }
  return source;
}

/** The example page, its script tag pinned to this version's URL and hash. */
async function pinnedExample(built) {
  const { version } = JSON.parse(await readFile(new URL("package.json", root), "utf8"));
  const integrity = `sha384-${createHash("sha384").update(built).digest("base64")}`;
  const page = await readFile(EXAMPLE, "utf8");
  if (!PINNED.test(page)) throw new Error(`${EXAMPLE} has no pinned qrlogin-<version>.js script tag`);
  return page.replace(PINNED, `/static/qrlogin-${version}.js" integrity="${integrity}"`);
}

async function main() {
  const built = await build();
  const outputs = [
    [SERVED, built],
    [EXAMPLE, await pinnedExample(built)],
  ];
  for (const [path, content] of outputs) {
    if (process.argv.includes("--check")) {
      if ((await readFile(path, "utf8").catch(() => "")) !== content) {
        console.error(`${path} is stale: run \`npm run build\` in web-gateway/js and commit it`);
        process.exitCode = 1;
      } else console.log(`${path} is current`);
    } else {
      await writeFile(path, content);
      console.log(`wrote ${path}`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
