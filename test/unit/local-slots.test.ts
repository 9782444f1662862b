// How many activities each local Python worker takes at once (workers/python-workers.ts localSlots).
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { localSlots } from '../../workers/python-workers';

describe('local worker slots', () => {
  it('gives train and eval one slot per core, and quantize and infer one', () => {
    expect(localSlots('train', undefined, {})).toBe(availableParallelism());
    expect(localSlots('eval', undefined, {})).toBe(availableParallelism());
    expect(localSlots('quantize', undefined, {})).toBe(1);
    expect(localSlots('infer', undefined, {})).toBe(1);
  });

  it('takes HALA_LOCAL_SLOTS, and a caller’s figure over it, for train and eval only', () => {
    expect(localSlots('train', undefined, { HALA_LOCAL_SLOTS: '3' })).toBe(3);
    expect(localSlots('eval', 1, { HALA_LOCAL_SLOTS: '3' })).toBe(1);
    expect(localSlots('infer', undefined, { HALA_LOCAL_SLOTS: '3' })).toBe(1);
  });

  it('refuses a HALA_LOCAL_SLOTS that is not a whole number of at least 1, naming the variable and the fix', () => {
    for (const bad of ['0', '1.5', 'two']) {
      expect(() => localSlots('train', undefined, { HALA_LOCAL_SLOTS: bad })).toThrow(/HALA_LOCAL_SLOTS must be a whole number >= 1 .*unset it/);
    }
  });
});
