// See README.md: profile a service between two SIGWINCH signals.
const inspector = require('node:inspector');
const fs = require('node:fs');
const name = (process.argv[1] || '').split('/').slice(-3).join('_');
if (/services/.test(process.argv[1] || '')) {
  const s = new inspector.Session();
  s.connect();
  let on = false;
  process.on('SIGWINCH', () => {
    if (!on) { s.post('Profiler.enable', () => s.post('Profiler.setSamplingInterval', { interval: 200 }, () => s.post('Profiler.start', () => { on = true; }))); }
    else { s.post('Profiler.stop', (err, { profile }) => { fs.writeFileSync(`/tmp/prof/${name}-${process.pid}-${Date.now()}.cpuprofile`, JSON.stringify(profile)); on = false; }); }
  });
}
