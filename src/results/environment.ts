/** Where a result came from: the machine, the runtime and the migbench commit. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export interface EnvironmentInfo {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemBytes: number;
  loadAvg: number[];
  ci: boolean;
}

export interface GitInfo {
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
}

export function captureEnvironment(): EnvironmentInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemBytes: os.totalmem(),
    loadAvg: os.loadavg(),
    ci: Boolean(process.env.CI),
  };
}

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: PACKAGE_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

let gitInfo: GitInfo | null = null;

/**
 * The commit of the migbench checkout that ran (null fields when it is not a git checkout). Read once
 * per thread — the code that runs is the code loaded when the process started — and copied out: a
 * sweep or suite of many runs would otherwise start three git processes per run, and on the
 * simulate-mode pool each of those forks stalls the other threads (about 7 ms per run here, and two
 * threads ran little faster than one).
 */
export function captureGit(): GitInfo {
  if (gitInfo === null) {
    const commit = git(['rev-parse', 'HEAD']);
    if (commit === null) gitInfo = { commit: null, branch: null, dirty: null };
    else {
      const status = git(['status', '--porcelain', '--untracked-files=no']);
      gitInfo = { commit, branch: git(['rev-parse', '--abbrev-ref', 'HEAD']), dirty: status === null ? null : status.length > 0 };
    }
  }
  return { ...gitInfo };
}
