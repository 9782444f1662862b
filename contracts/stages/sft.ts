// stages.sft: every student fine-tuned on the translated instructions, each with its own knobs.
import { z } from 'zod';
import { Student } from './train-knobs';

export const SftKnobs = z.strictObject({ students: z.array(Student).min(1) });
