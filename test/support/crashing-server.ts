/**
 * `npm start` with a bug planted: the real server (src/server.ts), which rejects a promise nobody
 * handles when told `reject` on stdin, or throws outside any handler when told `throw`.
 */
import { main } from "../../src/server";

void main().then(() => {
  process.stdin.on("data", (chunk: Buffer) => {
    const order = chunk.toString().trim();
    if (order === "reject") void Promise.reject(new Error("a rejection nobody handled"));
    if (order === "throw")
      setImmediate(() => {
        throw new Error("an exception nobody caught");
      });
  });
});
