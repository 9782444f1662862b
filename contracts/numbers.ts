// The number shapes every knob uses, so a knob's unit reads the same wherever it is declared.
import { z } from 'zod';

export const positiveInt = () => z.number().int().positive();
export const fraction = () => z.number().min(0).max(1);
