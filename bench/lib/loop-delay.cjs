// Loaded into an app process by the fault corpus (`node --require`), never by the app itself:
// how long the event loop was held. On SIGUSR2 it writes what it saw since the last signal to
// LOOP_DELAY_FILE and starts again, so the bench can read the longest stall of one case.
//
// Two measures: how late timers ran (wall clock: on a loaded machine it also counts the time the
// process waited for a core), and the CPU the process used between two ticks of a 1 ms timer (what
// one turn of the loop cost, whatever the load; it also counts GC helper threads, so it errs high).
const fs = require("node:fs");
const { monitorEventLoopDelay } = require("node:perf_hooks");

const file = process.env.LOOP_DELAY_FILE;
if (file) {
  const delays = monitorEventLoopDelay({ resolution: 5 });
  delays.enable();
  let last = process.cpuUsage();
  let maxCpuUs = 0;
  const tick = () => {
    const now = process.cpuUsage();
    maxCpuUs = Math.max(maxCpuUs, now.user - last.user + now.system - last.system);
    last = now;
    setTimeout(tick, 1).unref();
  };
  tick();
  let seq = 0;
  process.on("SIGUSR2", () => {
    seq += 1;
    const ms = (us) => Math.round(us / 100) / 10;
    const report = { seq, lateMs: ms(delays.max / 1000), cpuMs: ms(maxCpuUs) };
    // Written whole, then renamed: the bench never reads half a file.
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(report));
    fs.renameSync(`${file}.tmp`, file);
    delays.reset();
    maxCpuUs = 0;
  });
}
