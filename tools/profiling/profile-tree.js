const p = JSON.parse(require('fs').readFileSync(process.argv[2]));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const counts = new Map(); for (const s of p.samples) counts.set(s, (counts.get(s) || 0) + 1);
const total = p.samples.length; const thr = +(process.argv[3] || 1.5);
const incl = (n) => { if (n._i !== undefined) return n._i; let t = counts.get(n.id) || 0; for (const c of n.children || []) t += incl(byId.get(c)); return n._i = t; };
const name = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
const walk = (n, d) => { const v = 100 * incl(n) / total; if (v < thr) return; console.log(' '.repeat(d) + v.toFixed(1) + ' ' + name(n) + ' self=' + (100 * (counts.get(n.id) || 0) / total).toFixed(1)); for (const c of (n.children || []).map(c => byId.get(c)).sort((a, b) => incl(b) - incl(a))) walk(c, d + 1); };
walk(p.nodes[0], 0);
