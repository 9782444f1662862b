// stages.build_bilingual_corpus: Open-Orca translated by the FP8 teacher, with the filtered OPUS pairs.
import { z } from 'zod';
import { positiveInt } from '../numbers';

export const BuildBilingualCorpusKnobs = z
  .strictObject({
    open_orca_rows: positiveInt().default(1000).describe('Open-Orca rows the teacher translates'),
    translate_responses: z.boolean().default(true),
    max_segment_chars: positiveInt().default(2000).describe('longer segments are left out and counted'),
    both_directions: z.boolean().default(true).describe('emit source->target and target->source prompts'),
    shard_rows: positiveInt().default(512).describe('segments per translation shard'),
  })
  .prefault({});
