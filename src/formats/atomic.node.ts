// Crash-safe writes for checkpoints and exported models (Node only).
//
// A plain writeFile() that is interrupted (Ctrl-C, OOM kill, power loss) leaves a half-written file
// under the real name, and the next run happily loads garbage. Instead we write somewhere else, flush
// it to disk, and only then rename() it into place: on POSIX a rename within one filesystem is atomic,
// so readers see either the complete old version or the complete new one.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

function tempSuffix(kind: 'tmp' | 'old'): string {
  return `.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

// fsync a directory so the rename itself survives a power cut. Not possible on every platform
// (Windows refuses to open directories), and the data is already safe, so failures are ignored.
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function writeAndSync(file: string, data: Uint8Array | string): void {
  // 'wx': fail rather than clobber if the random temp name somehow exists.
  const fd = fs.openSync(file, 'wx', 0o644);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Replace `file` with `data` atomically: writes `<file>.tmp-<pid>-<rand>` in the same directory
 * (same filesystem, so rename is atomic), fsyncs it, renames it over `file`, then fsyncs the directory.
 * On any failure the temp file is removed, `file` is left as it was, and the error names `file`.
 * The parent directory must already exist.
 */
export function writeFileAtomicSync(file: string, data: Uint8Array | string): void {
  const tmp = file + tempSuffix('tmp');
  try {
    writeAndSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`cannot write ${file}: ${describe(e)}`, { cause: e });
  }
  fsyncDir(path.dirname(path.resolve(file)));
}

async function fsyncDirAsync(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // best effort, as in fsyncDir
  } finally {
    await fh?.close();
  }
}

async function writeAndSyncAsync(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await fsp.open(file, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Same as writeFileAtomicSync without blocking the event loop (for big checkpoints in a server). */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = file + tempSuffix('tmp');
  try {
    await writeAndSyncAsync(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw new Error(`cannot write ${file}: ${describe(e)}`, { cause: e });
  }
  await fsyncDirAsync(path.dirname(path.resolve(file)));
}

function checkRelative(dir: string, name: string): void {
  const norm = path.posix.normalize(name.replace(/\\/g, '/'));
  if (name.length === 0 || path.isAbsolute(name) || norm.startsWith('../') || norm === '..' || norm === '.') {
    throw new Error(`cannot write ${dir}: file name ${JSON.stringify(name)} must be a relative path inside the folder`);
  }
}

/**
 * Make `dir` hold exactly `files` (relative paths, subfolders allowed, e.g. "tokenizer/vocab.json"),
 * replacing whatever was there as a whole.
 *
 * Steps, and what a crash at each point leaves behind:
 *  1. Write every file into the sibling `<dir>.tmp-<pid>-<rand>` and fsync it.
 *     Crash: `dir` untouched; a stray `.tmp-*` folder to delete by hand.
 *  2. If `dir` does not exist: rename the temp folder to `dir`. Done.
 *  3. If `dir` exists (it must be a folder, else we throw before touching it): rename it to
 *     `<dir>.old-<pid>-<rand>`, rename the temp folder to `dir`, then delete the old folder recursively.
 *     Node has no atomic directory exchange, so for the instant between the two renames `dir` does not
 *     exist. Crash there: the complete previous version is in `.old-*` and the complete new one in `.tmp-*`;
 *     nothing is ever half-written. If the second rename fails, the old folder is renamed back.
 * Files in the previous `dir` that are not in `files` are gone afterwards (it is replaced, not merged).
 * On failure the temp folder is removed and the error names `dir`.
 */
export function writeDirAtomicSync(dir: string, files: Record<string, Uint8Array | string>): void {
  const target = path.resolve(dir);
  for (const name of Object.keys(files)) checkRelative(dir, name);
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(target);
  } catch {
    existing = undefined;
  }
  if (existing && !existing.isDirectory()) {
    throw new Error(`cannot write ${dir}: it exists and is not a folder`);
  }

  const tmp = target + tempSuffix('tmp');
  try {
    fs.mkdirSync(tmp, { recursive: false });
    for (const [name, data] of Object.entries(files)) {
      const file = path.join(tmp, name);
      makeDirs(path.dirname(file));
      writeAndSync(file, data);
    }
    fsyncDir(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`cannot write ${dir}: ${describe(e)}`, { cause: e });
  }

  if (!existing) {
    try {
      fs.renameSync(tmp, target);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`cannot write ${dir}: ${describe(e)}`, { cause: e });
    }
    fsyncDir(path.dirname(target));
    return;
  }

  const old = target + tempSuffix('old');
  try {
    fs.renameSync(target, old);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`cannot write ${dir}: cannot move the previous folder aside: ${describe(e)}`, { cause: e });
  }
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.renameSync(old, target);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`cannot write ${dir}: ${describe(e)}`, { cause: e });
  }
  fsyncDir(path.dirname(target));
  fs.rmSync(old, { recursive: true, force: true });
}

/** Same as writeDirAtomicSync without blocking the event loop. */
export async function writeDirAtomic(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  const target = path.resolve(dir);
  for (const name of Object.keys(files)) checkRelative(dir, name);
  const existing = await fsp.stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new Error(`cannot write ${dir}: it exists and is not a folder`);
  }

  const tmp = target + tempSuffix('tmp');
  try {
    await fsp.mkdir(tmp, { recursive: false });
    for (const [name, data] of Object.entries(files)) {
      const file = path.join(tmp, name);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await writeAndSyncAsync(file, data);
    }
    await fsyncDirAsync(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new Error(`cannot write ${dir}: ${describe(e)}`, { cause: e });
  }

  if (!existing) {
    try {
      await fsp.rename(tmp, target);
    } catch (e) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw new Error(`cannot write ${dir}: ${describe(e)}`, { cause: e });
    }
    await fsyncDirAsync(path.dirname(target));
    return;
  }

  const old = target + tempSuffix('old');
  try {
    await fsp.rename(target, old);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new Error(`cannot write ${dir}: cannot move the previous folder aside: ${describe(e)}`, { cause: e });
  }
  try {
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rename(old, target);
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new Error(`cannot write ${dir}: ${describe(e)}`, { cause: e });
  }
  await fsyncDirAsync(path.dirname(target));
  await fsp.rm(old, { recursive: true, force: true });
}

/** true while a process with this id runs (a writer that may still own its temp folder) */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Repairs what a writeDirAtomicSync killed mid-way left next to `dir`, and removes stale temp folders of
 * writers that are gone:
 *  - `dir` missing, with a `.old-*` sibling: the kill fell between the two renames of step 3, so the `.tmp-*`
 *    of that writer is complete (it is fsynced before `.old-*` exists) and becomes `dir`; without one, the
 *    `.old-*` (the previous version) is put back.
 *  - any other `.tmp-*` is incomplete (killed in step 1) and any other `.old-*` is a leftover: deleted.
 * Returns what it did, one line each, for a note to the user.
 */
export function recoverDirAtomicSync(dir: string): string[] {
  const target = path.resolve(dir), parent = path.dirname(target), base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)-[0-9a-f]+$`);
  const stale = names.map((n) => ({ n, m: re.exec(n) })).filter((e) => e.m && !alive(Number(e.m[2])));
  const done: string[] = [];
  if (!fs.existsSync(target)) {
    const old = stale.find((e) => e.m![1] === 'old');
    const tmp = old && stale.find((e) => e.m![1] === 'tmp' && e.m![2] === old.m![2]);
    const use = tmp ?? old;
    if (use) {
      fs.renameSync(path.join(parent, use.n), target);
      done.push(`${dir}: recovered the ${use === tmp ? 'new' : 'previous'} version from ${use.n} (a write was interrupted)`);
    }
  }
  for (const e of stale) {
    const p = path.join(parent, e.n);
    if (fs.existsSync(p)) fs.rmSync(p, { recursive: true, force: true });
  }
  return done;
}

/**
 * mkdir -p that creates each missing folder on its own: Node 20's `mkdirSync(dir, { recursive: true })` never
 * returns under a pseudo file system such as /proc (it retries forever), where one level at a time fails at
 * once (ENOENT, EPERM). Returns the folders it made, outermost first. Throws the system's error.
 */
export function makeDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (d === path.dirname(d)) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return missing;
}

/** the system's reason for a failed file operation, without its code and path: "no such file or directory" */
export function systemReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
}

/**
 * Why folder `dir`, missing now, could not be made, as the system's short reason ("no such file or directory"):
 * it is made with makeDirs and removed again. null when it can be made.
 */
export function folderCreationProblem(dir: string): string | null {
  let made: string[] = [];
  try {
    made = makeDirs(dir);
    return null;
  } catch (e) {
    return systemReason(e);
  } finally {
    for (const d of made.reverse()) fs.rmSync(d, { recursive: true, force: true });
  }
}

/**
 * Why nothing can be written into the existing folder `dir` (read-only, immutable, on a read-only mount), as the
 * system's short reason: an empty probe file is made and removed. null when it can be written.
 */
export function folderWriteProblem(dir: string): string | null {
  const probe = path.join(dir, `.gptlab-write-test-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return null;
  } catch (e) {
    return systemReason(e);
  }
}
