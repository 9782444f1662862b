// Stage 2: filter OPUS-100 pairs; every filter reports how many pairs it removed.
import type { FilterOpusInput, FilterOpusOutput } from '../../contracts/cpu-activities';
import { single, type StageDeclaration } from './declaration';
import { dataset } from './sources';
import { languageModelInputs, pairLanguageSlice } from './language-id';
import { languageIdFact } from './describe-helpers';
import { modelName } from '../stage-story';
import { minOf, mul, round } from './estimate-context';

export type FilterOpusSlice = Pick<FilterOpusInput, 'opus' | 'language' | 'filters'> & {
  /** Both sides of every pair identified; null: no check. */
  language_id: NonNullable<FilterOpusInput['language_id']> | null;
};

export const filterOpusStage: StageDeclaration<FilterOpusSlice, Record<string, never>, FilterOpusOutput> = {
  ...single('filter-opus'),
  slice: (r) => {
    const { source, target, source_script, target_script } = r.language;
    return {
      opus: r.inputs.opus,
      language: { source, target, source_script, target_script },
      filters: r.stages.filter_opus,
      language_id: pairLanguageSlice(r),
    };
  },
  inputs: (s) => [dataset(s.opus, 'inputs.opus'), ...languageModelInputs(s.language_id ?? null)],
  model: (r) => r.inputs.opus,
  estimate: (x, r) => {
    const rowsIn = minOf(x.rows('opus'), r.stages.filter_opus.max_rows);
    const pairs = mul(rowsIn, x.kept('filter_opus'));
    return { reads: 'OPUS-100 pairs', rows_in: rowsIn, rows_out: round(pairs), unit: 'pairs', artifact_gb: x.segmentGb(pairs, 2), gpu_hours: 0, figures: { pairs } };
  },
  headline: ['read', 'kept'],
  describe: (r) => {
    const f = r.stages.filter_opus;
    return {
      summary: `filter-opus — ${r.language.source}→${r.language.target} pairs of ${modelName(r.inputs.opus)}, ${f.min_chars}–${f.max_chars} chars, ratio ≤ ${f.max_length_ratio}, ${f.dedup} dedup`,
      facts: [
        ['pairs', r.inputs.opus],
        ['read at most', f.max_rows ?? 'all'],
        ['script share', `≥ ${f.min_script_fraction} (${r.language.source_script} / ${r.language.target_script})`],
        ['language identification', languageIdFact(r)],
      ],
    };
  },
  async work(io, s) {
    const { language_id, ...rest } = s;
    const out = await io.cpu.filterOpus({ stage_key: io.stage_key, output_prefix: io.output_prefix, ...rest, ...(language_id ? { language_id } : {}) });
    // The share kept, which a recipe check can bound whatever the size of the input.
    const keep_rate = out.counts.read > 0 ? out.counts.kept / out.counts.read : 0;
    return { output: out, artifacts: [out.pairs], metrics: { ...out.counts, keep_rate } };
  },
};
