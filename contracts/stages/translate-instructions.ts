// stages.translate_instructions: the instruction sets translated by the fine-tuned translator.
import { z } from 'zod';
import { positiveInt } from '../numbers';

export const TranslateInstructionsKnobs = z
  .strictObject({
    shard_rows: positiveInt().default(2048).describe('segments per shard activity'),
    max_segment_chars: positiveInt().default(4000),
  })
  .prefault({});
