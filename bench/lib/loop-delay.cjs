// Loaded into an app process by the fault corpus (`node --require`), never by the app itself:
// how long the event loop was held. On SIGUSR2 it writes what it saw since the last signal to
// LOOP_DELAY_FILE and starts again, so the bench can read the longest stall of one case.
//
// Two measures: how late timers ran (wall clock: on a loaded machine it also counts the time the
// process waited for a core), and the CPU the loop's own thread used between two ticks of a 1 ms
// timer (what one turn of the loop cost, whatever the load). That thread's time comes from Linux's
// per-thread schedstat (nanoseconds); GC helper threads and libuv's pool run beside the loop and
// are not counted. Without it, the whole process's CPU is taken, which errs high.
const fs = require("node:fs");
const { monitorEventLoopDelay } = require("node:perf_hooks");

const file = process.env.LOOP_DELAY_FILE;
const threadStat = `/proc/self/task/${process.pid}/schedstat`;
/** CPU used so far by the loop's thread, in µs; by the whole process where Linux does not say. */
const cpuUs = fs.existsSync(threadStat)
  ? () => Number(fs.readFileSync(threadStat, "utf8").split(" ")[0]) / 1000
  : () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    };
if (file) {
  const delays = monitorEventLoopDelay({ resolution: 5 });
  delays.enable();
  let last = cpuUs();
  let maxCpuUs = 0;
  const tick = () => {
    const now = cpuUs();
    maxCpuUs = Math.max(maxCpuUs, now - last);
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
