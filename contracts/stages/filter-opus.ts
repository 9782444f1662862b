// stages.filter_opus: the OPUS-100 pairs kept for the bilingual corpus.
import { z } from 'zod';
import { fraction, positiveInt } from '../numbers';

export const FilterOpusKnobs = z
  .strictObject({
    max_rows: positiveInt().optional().describe('read at most this many pairs'),
    min_chars: z.number().int().nonnegative().default(1),
    max_chars: positiveInt().default(1000).describe('per side, in characters'),
    max_length_ratio: z.number().min(1).default(3).describe('longer side / shorter side, in characters'),
    min_script_fraction: fraction().default(0.5).describe('share of letters in the expected script per side'),
    dedup: z.enum(['none', 'exact', 'near']).default('near'),
  })
  .prefault({});
