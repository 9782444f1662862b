// A source must be what its recipe field promises before any GPU queue is woken: a model is a
// directory with config.json and weights, a dataset a parquet split. Checked when its stage opens.
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HalaErrorType } from '../contracts/errors';
import type { SourceCheck } from '../contracts/campaign';
import { type ArtifactStore, joinUri, resolveSource } from './store';
import { expandLocalGlob, isGlob } from './store/hub-source';

/** The source is not what its field says it is: the recipe must change. */
export class SourceMisshapen extends Error {
  readonly halaType: HalaErrorType = 'BadInput';
  override readonly name = 'SourceMisshapen';
}

const WEIGHTS = /\.(safetensors|bin|pt)$|\.safetensors\.index\.json$/;

/**
 * Throws SourceMisshapen naming the field, the URI and the fix. hf:// ids read from the hub itself are
 * left to the runners (its revision lookup already proved the repo exists); s3:// models are checked
 * for their config.json without downloading the weights.
 */
export async function checkSourceShape(check: SourceCheck, store: ArtifactStore, mirror: string | undefined): Promise<void> {
  const { uri, field, kind } = check;
  if (uri.startsWith('hf://') && !mirror) return;
  const problem = (what: string) => new SourceMisshapen(`${field} = ${uri} ${what}`);
  if (uri.startsWith('s3://')) {
    if (kind === 'model' && !(await store.exists(joinUri(uri, 'config.json')))) {
      throw problem('has no config.json: a model is a directory with config.json and its weights; point the field at one');
    }
    return;
  }
  const local = await resolveSource(uri, store, mirror);
  if (kind === 'model') {
    const info = await stat(local);
    if (!info.isDirectory()) throw problem(`is a file, not a model directory: a model is a directory with config.json and its weights (*.safetensors); point ${field} at one`);
    const files = await readdir(local);
    if (!files.includes('config.json')) throw problem(`has no config.json: it is not a model directory; point ${field} at one (config.json and *.safetensors)`);
    if (!files.some((f) => WEIGHTS.test(f))) throw problem(`has config.json but no weights (*.safetensors, *.bin): the download is incomplete; fetch the model again`);
    return;
  }
  const files = isGlob(local) ? await expandLocalGlob(local) : [local];
  for (const file of files) {
    const info = await stat(file);
    const parquet = info.isDirectory() ? (await readdir(file)).filter((f) => f.endsWith('.parquet')).map((f) => path.join(file, f)) : [file];
    if (parquet.length === 0) throw problem(`is a directory without parquet files: a dataset split is parquet; point ${field} at the split's files`);
    for (const p of parquet) {
      if (!(await isParquet(p))) throw problem(`${p === local ? 'is' : `holds ${path.basename(p)}, which is`} not a parquet file: a dataset split is parquet; point ${field} at one or convert it`);
    }
  }
}

/** Parquet files begin with the magic bytes PAR1. */
async function isParquet(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.toString('latin1') === 'PAR1';
  } finally {
    await handle.close();
  }
}
