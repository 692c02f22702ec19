const p = JSON.parse(require('fs').readFileSync(process.argv[2]));
const self = new Map(); const byId = new Map(p.nodes.map(n => [n.id, n]));
const counts = new Map(); for (const s of p.samples) counts.set(s, (counts.get(s) || 0) + 1);
const total = p.samples.length;
const parent = new Map(); for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const incl = new Map();
for (const [id, c] of counts) { const n = byId.get(id); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) || 0) + c);
  const seen = new Set(); let cur = id; while (cur !== undefined) { const m = byId.get(cur); const kk = `${m.callFrame.functionName || '(anon)'} ${m.callFrame.url.split('/').slice(-2).join('/')}:${m.callFrame.lineNumber}`; if (!seen.has(kk)) { seen.add(kk); incl.set(kk, (incl.get(kk) || 0) + c); } cur = parent.get(cur); } }
const pr = (m, t) => { console.log(t); [...m].sort((a, b) => b[1] - a[1]).slice(0, +process.argv[3] || 40).forEach(([k, v]) => console.log((100 * v / total).toFixed(1).padStart(6), k)); };
pr(self, '--- self'); pr(incl, '--- inclusive');
