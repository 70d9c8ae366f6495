// Loaded into an app process by `npm run bench:scale` (`node --require`), never by the app itself:
// when the process wrote each request to HighLevel on a connection (undici's diagnostics), to
// SEND_TIMES_FILE once a second. The sandbox stamps a request when its own event loop, shared with
// the bench's callers, gets to it, which can be seconds late; these are the app's side of it.
const dc = require("node:diagnostics_channel");
const fs = require("node:fs");

const file = process.env.SEND_TIMES_FILE;
if (file) {
  const sends = [];
  dc.subscribe("undici:client:sendHeaders", ({ request }) => {
    if (request.method === "POST" && String(request.path).includes("block-slots")) sends.push(Date.now());
  });
  setInterval(() => fs.writeFileSync(`${file}.${process.pid}`, JSON.stringify(sends)), 500).unref();
}
