// The CPU activity behind an approval gate's preview: rows sampled (DuckDB) from each dataset the
// held stage reads, with the funnel the workflow gathered, digested so the approval can name exactly
// what its approver was shown. Registered by the CPU worker (workers/cpu-worker.ts).
import { createHash } from 'node:crypto';
import { PreviewGateInput } from '../contracts/cpu-activities';
import type { GatePreview } from '../contracts/gates';
import { sampleParquetRows } from './corpus';
import { runInWorkDir } from './cpu';
import { parseOrBadInput } from './parse-input';
import { canonicalJson } from './stage-key';
import type { ArtifactStore } from './store';

/** The digest an approval records: of everything the preview shows, keys sorted. */
export function previewDigest(preview: Omit<GatePreview, 'sha256'>): string {
  return createHash('sha256').update(canonicalJson(preview)).digest('hex');
}

export function createGatePreviewActivities({ store, workRoot }: { store: ArtifactStore; workRoot?: string }) {
  return {
    async previewGate(raw: PreviewGateInput): Promise<GatePreview> {
      const input = parseOrBadInput(PreviewGateInput, raw, 'previewGate');
      return runInWorkDir('previewGate', workRoot, async (workDir) => {
        const samples = [];
        for (const dataset of input.datasets) {
          // Verified against its sha256 on the way in: the rows shown are the rows the stage will read.
          const source = { path: await store.fetchToLocal(dataset), label: dataset.uri };
          samples.push({ dataset, rows: await sampleParquetRows({ source, n: input.samples, seed: input.seed, workDir }) });
        }
        const preview = { gate: input.gate, before: input.before, funnel: input.funnel, samples, ...(input.check && { check: input.check }) };
        return { ...preview, sha256: previewDigest(preview) };
      });
    },
  };
}
