const fs = require('fs');
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
      try { const c = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); const main = c.find((x) => x.includes('services/') || x.includes('bench') || x.includes('slotprof') || x.includes('kafka.Kafka')); if (main) cmd = comm + ':' + main.split('/').slice(-3).join('/'); } catch {}
      m.set(pid, { cmd, t: +f[11] + +f[12], u: +f[11], s: +f[12] });
    } catch {}
  }
  return { m, at: Date.now() };
}
function diff(a, b) {
  const secs = (b.at - a.at) / 1000; const agg = new Map();
  const sys = new Map();
  for (const [pid, v] of b.m) { const before = a.m.get(pid); const same = before && before.cmd === v.cmd; const d = v.t - (same ? before.t : 0); const ds = v.s - (same ? before.s : 0); if (d > 0) { agg.set(v.cmd, (agg.get(v.cmd) || 0) + d); sys.set(v.cmd, (sys.get(v.cmd) || 0) + ds); } }
  return [...agg].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([k, v]) => `${k} ${(v / secs).toFixed(0)}% (sys ${(sys.get(k) / secs).toFixed(0)}%)`).join(' | ');
}
module.exports = { snap, diff };
