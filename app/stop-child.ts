/**
 * Stops a child process with `signal` and resolves when it has exited; a child still
 * running after `forceAfterMs` gets SIGKILL, so a stuck server never blocks a shutdown.
 */
import type { ChildProcess } from 'node:child_process';

export function stopChild(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals,
  forceAfterMs = 10_000,
): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}
