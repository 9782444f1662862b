// The Python runners read contracts/json-schema/*.json: it must be exactly what the zod source
// exports today (run `npm run contracts:export` after changing a schema).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJsonSchemas } from '../../contracts/json-schema';
import { ArtifactRef } from '../../contracts/artifact';

describe('contracts', () => {
  it.each(Object.entries(renderJsonSchemas()))('%s has not drifted from the zod source', (file, text) => {
    expect(readFileSync(path.join(__dirname, '../../contracts/json-schema', file), 'utf8')).toBe(text);
  });

  it('ArtifactRef refuses path escapes and unknown schemes', () => {
    const ok = { uri: 'file:///store/a.parquet', sha256: 'a'.repeat(64), kind: 'dataset', bytes: 1 };
    expect(ArtifactRef.safeParse(ok).success).toBe(true);
    expect(ArtifactRef.safeParse({ ...ok, uri: 'file:///store/../etc/passwd' }).success).toBe(false);
    expect(ArtifactRef.safeParse({ ...ok, uri: 'http://x/y' }).success).toBe(false);
    expect(ArtifactRef.safeParse({ ...ok, sha256: 'xyz' }).success).toBe(false);
  });
});
