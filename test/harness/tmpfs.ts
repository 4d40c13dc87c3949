/**
 * Small real file systems for disk-fault tests: a tmpfs that fills up, remounted read-only
 * mid-run. Needs root (the tests run as root, where chmod stops nothing).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

export function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir]);
}

/** Unmounts if mounted; lazily, so a file still open elsewhere does not keep it. */
export function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
}
