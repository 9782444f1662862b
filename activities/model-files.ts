// The files of a local model directory, checked when a stage opens so that a broken download is
// refused in milliseconds, naming its file, instead of failing a runner three times over minutes
// ("SafetensorError: incomplete metadata"). Only headers and small JSON files are read, no tensor.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readSafetensorsHeader, SafetensorsInvalid } from './safetensors-header';

const REFETCH = 'fetch the model again (an interrupted download or a full disk leaves files short)';

/**
 * What is wrong with the model directory `dir` (config.json, every *.safetensors file directly in
 * it, every *.safetensors.index.json and the shards it names), said with the file and the fix, or
 * undefined when nothing is. Non-safetensors weights (*.bin pickles) are left to the runner.
 */
export async function modelFilesProblem(dir: string): Promise<string | undefined> {
  const files = await readdir(dir);
  const config = path.join(dir, 'config.json');
  if (files.includes('config.json')) {
    const { problem } = parsedJson(await readFile(config, 'utf8'));
    if (problem) return `${config} is not JSON (${problem}): restore the model's config.json or ${REFETCH}`;
  }
  const headers = new Map<string, Set<string>>();
  for (const name of files.filter((f) => f.endsWith('.safetensors')).sort()) {
    try {
      headers.set(name, new Set(Object.keys((await readSafetensorsHeader(path.join(dir, name))).tensors)));
    } catch (error) {
      if (error instanceof SafetensorsInvalid) return `${error.message}; ${REFETCH}`;
      throw error;
    }
  }
  for (const name of files.filter((f) => f.endsWith('.safetensors.index.json')).sort()) {
    const problem = indexProblem(path.join(dir, name), await readFile(path.join(dir, name), 'utf8'), headers);
    if (problem) return `${problem}; ${REFETCH}`;
  }
  return undefined;
}

/** A sharded model's index: every tensor it places is in the header of a shard that exists. */
function indexProblem(file: string, text: string, headers: Map<string, Set<string>>): string | undefined {
  const { value, problem } = parsedJson(text);
  if (problem) return `${file} is not JSON (${problem})`;
  const map = (value as { weight_map?: unknown }).weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return `${file} has no weight_map object (tensor name -> shard file)`;
  for (const [tensor, shard] of Object.entries(map as Record<string, unknown>)) {
    const held = typeof shard === 'string' ? headers.get(shard) : undefined;
    if (!held) return `${file} names ${String(shard)}, which is missing from the model directory`;
    if (!held.has(tensor)) return `${file} places ${tensor} in ${shard}, whose header has no such tensor`;
  }
  return undefined;
}

/** `text` parsed once: its value, or why it does not parse. */
function parsedJson(text: string): { value?: unknown; problem?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}
