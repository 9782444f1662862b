import { describe, expect, it } from 'vitest';
import { canonicalJson, stageKey } from '../../activities/stage-key';
import { storeLayout } from '../../activities/store';

const parts = { stage: 'sft-hala-350m', config: { lr: 1e-3, epochs: 1 }, inputs: ['a'.repeat(64)], runner_version: '0.1.0' };

describe('stage keys', () => {
  it('ignore key order in configs', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(stageKey({ ...parts, config: { epochs: 1, lr: 1e-3 } })).toBe(stageKey(parts));
  });

  it('change with the config, the inputs, the stage and the runner version', () => {
    const key = stageKey(parts);
    expect(stageKey({ ...parts, config: { lr: 2e-3, epochs: 1 } })).not.toBe(key);
    expect(stageKey({ ...parts, inputs: ['b'.repeat(64)] })).not.toBe(key);
    expect(stageKey({ ...parts, stage: 'sft-hala-700m' })).not.toBe(key);
    expect(stageKey({ ...parts, runner_version: '0.2.0' })).not.toBe(key);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('change with the content behind a source URI, not with facts already in its digest', () => {
    const withSources = { ...parts, inputs: ['a'.repeat(64), 'hf://datasets/o/n/x.parquet'] };
    const v1 = stageKey({ ...withSources, sources: [{ uri: 'hf://datasets/o/n/x.parquet', sha256: '1'.repeat(64) }] });
    expect(stageKey({ ...withSources, sources: [{ uri: 'hf://datasets/o/n/x.parquet', sha256: '2'.repeat(64) }] })).not.toBe(v1);
    const sameContent = { uri: 'hf://datasets/o/n/x.parquet', sha256: '1'.repeat(64), revision: 'f'.repeat(40) };
    expect(stageKey({ ...withSources, sources: [sameContent] })).toBe(v1);
    expect(stageKey(withSources)).not.toBe(v1);
  });

  it('place outputs and manifests under the store root', () => {
    const key = stageKey(parts);
    expect(storeLayout.stagePrefix('s3://b/camp/', 'sft-x', key)).toBe(`s3://b/camp/stages/sft-x/${key.slice(0, 16)}`);
    expect(storeLayout.forcedPrefix('s3://b/camp/', 'sft-x', key, 'run-1')).toBe(`s3://b/camp/stages/sft-x/${key.slice(0, 16)}/forced-run-1`);
    expect(storeLayout.manifest('file:///r', key)).toBe(`file:///r/cache/${key}.json`);
    expect(storeLayout.lineage('file:///r/', 'a'.repeat(64))).toBe(`file:///r/lineage/${'a'.repeat(64)}.json`);
    expect(storeLayout.campaignSummary('file:///r', 'c-1')).toBe('file:///r/campaigns/c-1/summary.json');
  });
});
