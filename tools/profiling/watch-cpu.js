const cpu = require('./cpu-by-process');
let prev = cpu.snap();
setInterval(() => { const now = cpu.snap(); console.log(new Date().toISOString().slice(11, 19), cpu.diff(prev, now)); prev = now; }, 5000);
