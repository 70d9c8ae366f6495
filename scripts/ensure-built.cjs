#!/usr/bin/env node
/*
 * The command-line tools run as compiled JavaScript from dist/ (no TypeScript loader at run time,
 * so they start in a fraction of a second). This builds dist/ first when it is missing or older
 * than the sources, so `npm run api-key` and `npm run bulk` work on a fresh clone too.
 */
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const stamp = path.join(root, "dist", ".built");

function newest(dir) {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else latest = Math.max(latest, fs.statSync(full).mtimeMs);
  }
  return latest;
}

const schema = fs.statSync(path.join(root, "prisma", "schema.prisma")).mtimeMs;
const sources = Math.max(
  newest(path.join(root, "src")),
  schema,
  fs.statSync(path.join(root, "tsconfig.build.json")).mtimeMs,
);
const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
if (built < sources) {
  process.stderr.write("Building the app first (once after each change, about 20 s)…\n");
  // `prisma generate` empties and rewrites src/generated/ (`npm run build` starts with it). A test
  // run builds through here while its other files read that client, so it is regenerated only
  // when older than the schema (`npm ci` generates it); otherwise only the app is compiled.
  const client = path.join(root, "src", "generated", "prisma", "client.ts");
  const current = fs.existsSync(client) && fs.statSync(client).mtimeMs >= schema;
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const script = current ? "build:app" : "build";
  const result = spawnSync(npm, ["run", "--silent", script], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
