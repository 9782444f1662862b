// The sizes `hala plan` can read instead of being told: rows of every parquet input and parameters
// of every model that resolve to local files (file://, or hf:// through the offline hub mirror).
// Parquet footers and safetensors headers only — nothing is downloaded, no weights are read.
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Recipe } from '../../contracts/recipe';
import { FileStore } from '../../activities/store';
import { activeHubMirror, resolveSource } from '../../activities/store/hub-source';
import { readSafetensorsHeader, SafetensorsInvalid } from '../../activities/safetensors-header';

export interface Measured {
  rows: Record<string, number>;
  params_b: Record<string, number>;
}

/** Rows per input name and parameters (billions) per model uri, for the sources that are local. */
export async function measureLocalSources(recipe: Recipe, mirror = activeHubMirror()): Promise<Measured> {
  const local = (uri: string) => (uri.startsWith('file://') || (uri.startsWith('hf://') && mirror) ? resolveSource(uri, localOnly, mirror).catch(() => undefined) : Promise.resolve(undefined));
  const datasets: [string, string][] = [
    ['opus', recipe.inputs.opus],
    ['open_orca', recipe.inputs.open_orca],
    ['translation_dev', recipe.inputs.translation_dev],
    ...recipe.inputs.instruction_sets.map((s): [string, string] => [s.name, s.uri]),
    ...recipe.inputs.benchmarks.map((b): [string, string] => [b.name, b.uri]),
  ];
  const models = [recipe.inputs.teacher, recipe.stages.train_translator.base, ...recipe.stages.sft.students.map((s) => s.base)];
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const measured: Measured = { rows: {}, params_b: {} };
  try {
    for (const [name, uri] of datasets) {
      const file = await local(uri);
      if (!file) continue;
      // The footers' row counts: no row is read.
      const reader = await db.runAndReadAll('SELECT sum(num_rows) AS n FROM parquet_file_metadata(?)', [file]);
      measured.rows[name] = Number(reader.getRowObjectsJson()[0]?.n ?? 0);
    }
  } finally {
    db.closeSync();
  }
  for (const uri of new Set(models)) {
    const dir = await local(uri);
    // A broken file is said with the source that holds it (the stage would refuse it at open the same way).
    const named = (e: unknown) => Promise.reject(e instanceof SafetensorsInvalid ? new SafetensorsInvalid(`${uri}: ${e.message}; fetch the model again`) : e);
    if (dir) measured.params_b[uri] = (await safetensorsParameters(dir).catch(named)) / 1e9;
  }
  return measured;
}

/** Parameters of a model directory, from the headers of its safetensors files. */
async function safetensorsParameters(dir: string): Promise<number> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.safetensors'));
  let total = 0;
  for (const f of files) {
    const { tensors } = await readSafetensorsHeader(path.join(dir, f));
    for (const t of Object.values(tensors)) total += t.shape.reduce((a, d) => a * d, 1);
  }
  return total;
}

// resolveSource needs a store only for s3:// sources, which are never measured here.
const localOnly = new FileStore(`file://${tmpdir()}`);
