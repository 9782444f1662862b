// Usage: npx tsx bench/slerp.ts [--quick]
// Slerp merge of two generated fp32 safetensors checkpoints (114M parameters; --quick: one decoder layer, 80M):
// Hala's streaming merge (bench/slerp.py: runners/merge.py's loop, one tensor pair at a time)
// against a reference that loads both models whole (bench/peers/slerp_reference.py), each in its
// own process in the runner venv (scripts/python-env.sh). Prints MB/s (output bytes / merge
// seconds), the peak RSS of each process tree and the max abs difference of the two outputs;
// asserts nothing. HALA_BENCH_SHARD_BYTES overrides the merge's output shard size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BenchRow, printBenchLine } from './lib/bench-line';
import { describeMachine } from './lib/machine';
import { type Measured, mib, runMeasured } from './lib/peak-rss';

const root = path.join(__dirname, '..');

function lastJson(m: Measured, what: string): Record<string, number> {
  if (m.code !== 0) throw new Error(`${what} failed (exit ${m.code}):\n${m.stderr.slice(-2000)}`);
  return JSON.parse(m.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

async function main() {
  const params = process.argv.includes('--quick') ? 20_000_000 : 100_000_000;
  const venv = execFileSync('bash', [path.join(root, 'scripts', 'python-env.sh')], { encoding: 'utf8' }).trim();
  const python = path.join(venv, 'bin', 'python');
  const env = { ...process.env, PYTHONPATH: path.join(root, 'gpu-runners') };
  const dir = mkdtempSync(path.join(tmpdir(), 'hala-bench-slerp-'));
  try {
    const gen = lastJson(await runMeasured(python, [path.join(__dirname, 'slerp.py'), 'generate', dir, '--params', String(params)], { env }), 'generate');
    const largest = gen.largest_tensor_bytes ?? 0;
    const shard = process.env.HALA_BENCH_SHARD_BYTES ? [process.env.HALA_BENCH_SHARD_BYTES] : [];
    const halaRun = await runMeasured(python, [path.join(__dirname, 'slerp.py'), 'hala', dir, path.join(dir, 'hala'), ...shard], { env });
    const hala = lastJson(halaRun, 'hala merge');
    const refRun = await runMeasured(python, [path.join(__dirname, 'peers', 'slerp_reference.py'), dir, path.join(dir, 'reference')], { env });
    const ref = lastJson(refRun, 'reference merge');
    const { max_abs_diff: diff = NaN } = lastJson(
      await runMeasured(python, [path.join(__dirname, 'slerp.py'), 'diff', path.join(dir, 'hala'), path.join(dir, 'reference')], { env }), 'diff');

    // What each process takes before any tensor: python + numpy for hala (the merge runner never imports torch),
    // python + torch for the reference (torch 2.14's import alone is ~640 MiB RSS, more than the target's 300 MiB).
    const baselineOf = async (imports: string) => (await runMeasured(python, ['-c', `import time, ${imports}; time.sleep(1)`], { env })).peakRssBytes;
    const baseline = await baselineOf('numpy; from hala_runners.runners import merge');
    const refBaseline = await baselineOf('torch, safetensors.torch');
    const mbps = (r: Record<string, number>) => (r.bytes ?? 0) / 1e6 / (r.seconds ?? NaN);
    const rssLimit = 2 * largest + 300 * 2 ** 20;
    console.log(`slerp: ${gen.params} fp32 parameters in ${gen.tensors} tensors (largest ${mib(largest)})`);
    console.log(`slerp hala (streaming): ${mbps(hala).toFixed(0)} MB/s, ${hala.seconds?.toFixed(1)} s, peak RSS ${mib(halaRun.peakRssBytes)}`);
    console.log(`slerp reference (whole models): ${mbps(ref).toFixed(0)} MB/s, ${ref.seconds?.toFixed(1)} s, peak RSS ${mib(refRun.peakRssBytes)}`);
    console.log(`slerp: import baselines: python + numpy ${mib(baseline)}, python + torch ${mib(refBaseline)}; above them: hala ${mib(halaRun.peakRssBytes - baseline)}, reference ${mib(refRun.peakRssBytes - refBaseline)}`);
    console.log(`slerp: max abs difference ${diff.toExponential(2)}; RSS limit 2 x largest + 300 MiB = ${mib(rssLimit)}`);
    const rows: BenchRow[] = [
      { figure: 'slerp: MB/s', hala: `${mbps(hala).toFixed(0)} (${(mbps(hala) / mbps(ref)).toFixed(2)}x)`, peers: { whole_model: mbps(ref).toFixed(0) },
        target: '>= 1x whole-model reference', met: mbps(hala) >= mbps(ref) },
      { figure: 'slerp: peak RSS', hala: mib(halaRun.peakRssBytes), peers: { whole_model: mib(refRun.peakRssBytes) },
        target: `<= 2 x largest tensor + 300 MiB = ${mib(rssLimit)}`, met: halaRun.peakRssBytes <= rssLimit },
      { figure: 'slerp: peak RSS above the import baseline (hala: python + numpy; whole_model: python + torch)', hala: mib(halaRun.peakRssBytes - baseline),
        peers: { whole_model: mib(refRun.peakRssBytes - refBaseline), baseline: mib(baseline), whole_model_baseline: mib(refBaseline) },
        target: `<= ${mib(rssLimit)}`, met: halaRun.peakRssBytes - baseline <= rssLimit },
      { figure: 'slerp: max abs diff vs reference (fp32)', hala: diff.toExponential(2), peers: {}, target: '<= 1e-6', met: diff <= 1e-6 },
    ];
    printBenchLine('slerp', rows, `${gen.params} fp32 parameters, ${gen.tensors} tensors, largest ${mib(largest)}, t = 0.5`, describeMachine());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
