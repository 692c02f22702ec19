// CPU per process between two snapshots of /proc/<pid>/stat (user and sys ticks, 100 per second).
// A process is the same while its pid and start time are (kernel workers rename themselves as they
// take other work; they are grouped under their current name).
const fs = require('node:fs');

function snap() {
  const m = new Map();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = st.lastIndexOf(')');
      const comm = st.slice(st.indexOf('(') + 1, close);
      const f = st.slice(close + 2).split(' ');
      let cmd = comm;
      try {
        const c = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const main = c.find((x) => x.includes('services/') || x.includes('bench') || x.includes('kafka.Kafka'));
        if (main) cmd = `${comm}:${main.split('/').slice(-3).join('/')}`;
      } catch {
        // gone, or a kernel thread
      }
      // Fields after the command: utime is the 12th, stime the 13th, starttime the 20th.
      m.set(pid, { cmd: cmd.replace(/^(kworker\/[^-]+)-.*/, '$1'), start: f[19], u: +f[11], s: +f[12] });
    } catch {
      // the process ended while being read
    }
  }
  return { m, at: Date.now() };
}

function diff(a, b, top = 8) {
  const secs = (b.at - a.at) / 1000;
  const total = new Map();
  const sys = new Map();
  for (const [pid, v] of b.m) {
    const before = a.m.get(pid);
    const same = before && before.start === v.start;
    const du = v.u - (same ? before.u : 0);
    const ds = v.s - (same ? before.s : 0);
    if (du + ds <= 0) continue;
    total.set(v.cmd, (total.get(v.cmd) || 0) + du + ds);
    sys.set(v.cmd, (sys.get(v.cmd) || 0) + ds);
  }
  return [...total]
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([k, v]) => `${k} ${(v / secs).toFixed(0)}% (sys ${(sys.get(k) / secs).toFixed(0)}%)`)
    .join(' | ');
}

module.exports = { snap, diff };
