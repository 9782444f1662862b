// stages.evaluate_translator: the translator and its base scored on held-out pairs.
import { z } from 'zod';
import { positiveInt } from '../numbers';

export const EvaluateTranslatorKnobs = z
  .strictObject({
    rows: positiveInt().default(200).describe('held-out pairs the translator and its base translate and are scored on'),
  })
  .prefault({});
