// stages.merge: each fine-tuned student slerped with its base.
import { z } from 'zod';
import { fraction } from '../numbers';

export const MergeKnobs = z
  .strictObject({
    t: z
      .union([fraction(), z.array(fraction()).min(1)])
      .default(0.5)
      .describe('0 = base, 1 = fine-tuned; a list gives one t per layer, interpolated'),
    colinear_threshold: fraction().default(0.9995).describe('|cos| above this falls back to lerp'),
  })
  .prefault({});
