/**
 * Takes the same row lock the token service takes while renewing a location's token, says
 * "locked", and never lets go: the test kills this process with SIGKILL mid-"renewal".
 */
import { Client } from "pg";

async function main() {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query("BEGIN");
  await client.query("SELECT 1 FROM locations WHERE id = $1 FOR UPDATE", [process.argv[2]]);
  process.stdout.write("locked\n");
  setInterval(() => {}, 60_000);
}

void main();
