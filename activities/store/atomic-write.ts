import { randomUUID } from 'node:crypto';
import { copyFile, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Local writes go to a hidden temp sibling and are renamed into place: a reader (or a retried
// activity) sees either nothing or the finished artifact, never half of one.

export function tempSibling(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${randomUUID()}.tmp`);
}

/** True for the temp names above, which listings must not show. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

export async function writeFileAtomic(dest: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = tempSibling(dest);
  await writeFile(tmp, data);
  await rename(tmp, dest);
}

export async function copyFileAtomic(src: string, dest: string): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = tempSibling(dest);
  await copyFile(src, tmp);
  await rename(tmp, dest);
}

/**
 * Copies `src` to `dest`, lets `finish` add files (the manifest) to the copy, then swaps it in.
 * An earlier attempt's `dest` is replaced: same stage key, same content by construction.
 */
export async function copyDirAtomic(src: string, dest: string, finish: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = tempSibling(dest);
  try {
    await cp(src, tmp, { recursive: true, dereference: true });
    await finish(tmp);
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
