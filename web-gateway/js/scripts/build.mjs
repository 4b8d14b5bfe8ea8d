// `npm run build`: writes the file the gateway serves (web-gateway/static/qrlogin.js, embedded in the binary)
// from the package's source, after checking that the source's VERSION is the package's version (the gateway
// serves the same bytes as /static/qrlogin-<version>.js).
// `npm run check` (`--check`): writes nothing, fails when the served file is not what the build would write.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = new URL("..", import.meta.url);
export const SOURCE = fileURLToPath(new URL("src/qrlogin.js", root));
export const SERVED = fileURLToPath(new URL("../static/qrlogin.js", root));

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

async function main() {
  const built = await build();
  if (process.argv.includes("--check")) {
    const served = await readFile(SERVED, "utf8").catch(() => "");
    if (served !== built) {
      console.error(`${SERVED} is stale: run \`npm run build\` in web-gateway/js and commit it`);
      process.exit(1);
    }
    console.log(`${SERVED} is the build of src/qrlogin.js`);
  } else {
    await writeFile(SERVED, built);
    console.log(`wrote ${SERVED}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
