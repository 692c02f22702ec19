/**
 * Slot engine benchmark: `computeSlots` (sorted sweep) vs `naiveComputeSlots` (the design card's algorithm).
 *
 * Scenario: provider in America/New_York (the month contains the spring-forward day), two intervals a day
 * (08:00-12:00, 13:00-18:00) seven days a week, 15-minute slots, 5/10-minute buffers, one 31-day query
 * (2026-03-01..2026-03-31, ~1,100 candidate slots) against 500 busy ranges of 15-120 minutes scattered over
 * the month by a seeded PRNG. Both engines must return the same slots before anything is timed.
 *
 * Run from the repo root (no ts-node needed):
 *   npx tsc --outDir /tmp/slotbench --rootDir . --module commonjs --target es2022 --strict --esModuleInterop \
 *     --skipLibCheck --types node bench/slot-engine.bench.ts
 *   NODE_PATH=node_modules node /tmp/slotbench/bench/slot-engine.bench.js [--quick]
 * or import `runSlotEngineBench` from anywhere. Timings are wall-clock: run on an idle machine.
 */
import {
  BusyRange,
  ComputeSlotsInput,
  clearTimeZoneCache,
  computeSlots,
  naiveComputeSlots,
  parseProviderRules,
} from '../libs/slot-engine/src';

export interface SlotEngineBenchResult {
  engineOpsPerSec: number;
  naiveOpsPerSec: number;
  /** naive time / engine time per query (warm engine). */
  ratio: number;
  engineMsPerQuery: number;
  naiveMsPerQuery: number;
  /** Engine with its memoised zone data dropped before every query (first query for a zone). */
  coldEngineMsPerQuery: number;
  coldRatio: number;
  slots: number;
  candidateSlots: number;
  busyRanges: number;
}

/** Deterministic PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function benchScenario(seed = 42, busyCount = 500): ComputeSlotsInput {
  const rules = parseProviderRules({
    timezone: 'America/New_York',
    slotDurationMinutes: 15,
    workingHours: Object.fromEntries(
      ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((day) => [day, [['08:00', '12:00'], ['13:00', '18:00']]]),
    ),
    bufferBeforeMinutes: 5,
    bufferAfterMinutes: 10,
    minimumNoticeMinutes: 0,
    bookingHorizonDays: 730,
  });
  const random = mulberry32(seed);
  const monthStart = Date.UTC(2026, 2, 1, 5); // 2026-03-01 00:00 EST
  const monthMs = 31 * 24 * 3_600_000;
  const busy: BusyRange[] = [];
  for (let i = 0; i < busyCount; i++) {
    const start = monthStart + Math.floor((random() * monthMs) / 300_000) * 300_000;
    busy.push({ start, end: start + (15 + Math.floor(random() * 22) * 5) * 60_000 });
  }
  return { rules, busy, from: '2026-03-01', to: '2026-03-31', now: Date.UTC(2026, 1, 15) };
}

function timeIt(run: () => void, minMs: number, minIterations: number): number {
  // warm-up (JIT): a few runs and at least a fifth of the time budget
  const warmUntil = performance.now() + minMs / 5;
  for (let i = 0; i < 3 || performance.now() < warmUntil; i++) run();
  let iterations = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < minMs || iterations < minIterations) {
    run();
    iterations++;
    elapsed = performance.now() - started;
  }
  return elapsed / iterations;
}

export async function runSlotEngineBench(opts: { quick?: boolean } = {}): Promise<SlotEngineBenchResult> {
  const input = benchScenario();
  const fast = computeSlots(input);
  const slow = naiveComputeSlots(input);
  if (JSON.stringify(fast) !== JSON.stringify(slow)) {
    throw new Error(`engines disagree: ${fast.length} vs ${slow.length} slots`);
  }
  const candidateSlots = computeSlots({ ...input, busy: [] }).length;

  const budget = opts.quick ? 150 : 1500;
  let sink = 0;
  const naiveMs = timeIt(() => (sink += naiveComputeSlots(input).length), budget, 5);
  const engineMs = timeIt(() => (sink += computeSlots(input).length), budget, 50);
  const coldMs = timeIt(
    () => {
      clearTimeZoneCache();
      sink += computeSlots(input).length;
    },
    budget / 3,
    10,
  );
  if (sink === 0) throw new Error('no slots computed');

  return {
    engineOpsPerSec: 1000 / engineMs,
    naiveOpsPerSec: 1000 / naiveMs,
    ratio: naiveMs / engineMs,
    engineMsPerQuery: engineMs,
    naiveMsPerQuery: naiveMs,
    coldEngineMsPerQuery: coldMs,
    coldRatio: naiveMs / coldMs,
    slots: fast.length,
    candidateSlots,
    busyRanges: input.busy.length,
  };
}

if (require.main === module) {
  runSlotEngineBench({ quick: process.argv.includes('--quick') })
    .then((r) => {
      const fmt = (n: number, digits = 3) => n.toFixed(digits).padStart(12);
      console.log(`slot engine: 31 days, ${r.candidateSlots} candidate slots, ${r.busyRanges} busy ranges -> ${r.slots} free slots`);
      console.log(`${'engine'.padEnd(24)}${'ms/query'.padStart(12)}${'ops/s'.padStart(12)}`);
      console.log(`${'computeSlots (warm)'.padEnd(24)}${fmt(r.engineMsPerQuery)}${fmt(r.engineOpsPerSec, 0)}`);
      console.log(`${'computeSlots (cold)'.padEnd(24)}${fmt(r.coldEngineMsPerQuery)}${fmt(1000 / r.coldEngineMsPerQuery, 0)}`);
      console.log(`${'naiveComputeSlots'.padEnd(24)}${fmt(r.naiveMsPerQuery)}${fmt(r.naiveOpsPerSec, 0)}`);
      console.log(`ratio naive/engine: ${r.ratio.toFixed(1)}x warm, ${r.coldRatio.toFixed(1)}x cold`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
