/** A daily wall-clock time in an IANA zone ("00:15" in Europe/Copenhagen), for retraining. */
import { localFields, localToEpochMs } from './time-zone';

export interface ClockTime {
  hour: number;
  minute: number;
}

/** "HH:MM" (24 h) → {hour, minute}; blank → undefined (no schedule); anything else throws. */
export function parseClockTime(text: string | undefined): ClockTime | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return undefined;
  const m = /^(\d{1,2}):(\d{2})$/.exec(trimmed);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) {
    throw new Error(`retrain time "${trimmed}" must be HH:MM in 24-hour time, e.g. 00:15 (blank = never)`);
  }
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** The first instant strictly after `nowMs` when the clock in `timeZone` shows `at`. */
export function nextDailyLocalMs(nowMs: number, at: ClockTime, timeZone: string): number {
  const today = localFields(nowMs, timeZone);
  for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
    const d = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset));
    const t = localToEpochMs(
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      d.getUTCDate(),
      at.hour,
      at.minute,
      0,
      0,
      timeZone,
    );
    if (t > nowMs) return t;
  }
  throw new Error(`no ${at.hour}:${at.minute} found after ${new Date(nowMs).toISOString()} in ${timeZone}`);
}
