import type { Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { showStatus, compactCount, countOf } from '../shared/status';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { loadState, saveState } from '../shared/node-state';
import { toEpochMs } from '../core/timestamp';
import {
  TurbineStats,
  type ClosedPeriod,
  type TurbineStatsOptions,
  type TurbineStatsState,
} from '../core/turbine-stats';
import { DEFAULT_MAD_THRESHOLD, type ImputeMethod } from '../core/turbine-cleaning';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { TURBINE_STATS_MIGRATIONS } from './migrations';
import { parseCheckpointMs, startCheckpoints } from '../shared/checkpoint-timer';

interface TurbineStatsConfig extends NodeDef {
  turbineProperty: string;
  timeProperty: string;
  powerProperty: string;
  periodSeconds: string | number;
  timezone: string;
  impute: ImputeMethod;
  minPower: string | number;
  maxPower: string | number;
  madThreshold: string | number;
  closeOnData: boolean;
  latenessSeconds?: string | number;
  idleSeconds?: string | number;
  maxFutureSeconds?: string | number;
  checkpointSeconds?: string | number;
}

interface Settings {
  turbinePath: string[];
  timePath: string[];
  powerPath: string[];
  options: TurbineStatsOptions;
  idleMs: number;
  checkpointMs: number;
}

const WARNINGS_PER_MSG = 5;

function optionalNumber(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined;
  return configNumber(raw, name, 0);
}

function parseSettings(config: TurbineStatsConfig): Settings {
  const path = (p: string | undefined, fallback: string) => (p || fallback).trim().split('.');
  const powerProperty = (config.powerProperty || 'power_output').trim();
  return {
    turbinePath: path(config.turbineProperty, 'turbine_id'),
    timePath: path(config.timeProperty, 'timestamp'),
    powerPath: powerProperty.split('.'),
    options: {
      periodSeconds: configNumber(config.periodSeconds, 'periodSeconds', 86400, { min: 1, integer: true }),
      timeZone: (config.timezone || 'UTC').trim(),
      impute: config.impute || 'linear',
      minPower: optionalNumber(config.minPower, 'minPower'),
      maxPower: optionalNumber(config.maxPower, 'maxPower'),
      madThreshold: configNumber(config.madThreshold, 'madThreshold', DEFAULT_MAD_THRESHOLD, { min: 0 }),
      closeOnData: config.closeOnData !== false,
      powerProperty,
      latenessMs: configNumber(config.latenessSeconds, 'latenessSeconds', 0, { min: 0 }) * 1000,
      maxFutureMs: configNumber(config.maxFutureSeconds, 'maxFutureSeconds', 300, { min: 0 }) * 1000,
    },
    idleMs: configNumber(config.idleSeconds, 'idleSeconds', 300, { min: 1 }) * 1000,
    checkpointMs: parseCheckpointMs(config.checkpointSeconds),
  };
}

function readPath(row: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = row;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export = (RED: NodeAPI) => {
  function TurbineStatsNode(this: Node, config: TurbineStatsConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: Settings;
    let stats: TurbineStats;
    try {
      settings = parseAllSettings(() => parseSettings(config));
      stats = new TurbineStats(settings.options, loadState<TurbineStatsState>(node));
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    let emitted = 0;
    let rejected = 0;
    const maxFutureSeconds = (settings.options.maxFutureMs ?? 0) / 1000;

    const emit = (send: Send, periods: ClosedPeriod[]) => {
      for (const p of periods) {
        const period = {
          start: new Date(p.start).toISOString(),
          end: new Date(p.end).toISOString(),
          day: p.day,
        };
        emitted += p.stats.length;
        send([
          { topic: p.day, period, payload: p.stats },
          p.rows.length > 0 ? { topic: p.day, period, payload: p.rows } : null,
        ]);
      }
    };
    const showProgress = () => {
      const open = stats.openRows;
      const text = open > 0 ? `${countOf(open, 'row')} open` : `${compactCount(emitted)} stats`;
      showStatus(node, rejected > 0 || stats.lateRows > 0 ? 'warn' : open > 0 ? 'busy' : 'ok', text);
    };

    onInput(node, (msg, send, done) => {
      if (msg.reset) {
        stats.reset();
        emitted = 0;
        rejected = 0;
        showStatus(node, 'idle', 'reset');
        return done();
      }
      const payload = msg.payload;
      const rows = Array.isArray(payload) ? payload : payload && typeof payload === 'object' ? [payload] : [];
      if (rows.length === 0 && !msg.flush) {
        return done(new Error('payload must be a row object or an array of rows'));
      }
      const problems: string[] = [];
      const lateBefore = stats.lateRows;
      const nowMs = Date.now();
      lastInputMs = nowMs;
      rows.forEach((row, index) => {
        if (row === null || typeof row !== 'object') {
          problems.push(`row ${index} is not an object`);
          return;
        }
        const record = row as Record<string, unknown>;
        const turbineId = readPath(record, settings.turbinePath);
        const timeMs = toEpochMs(readPath(record, settings.timePath));
        const validId =
          (typeof turbineId === 'number' && Number.isFinite(turbineId)) ||
          (typeof turbineId === 'string' && turbineId.trim() !== '');
        if (!validId) problems.push(`row ${index}: ${settings.turbinePath.join('.')} is missing`);
        else if (timeMs === undefined)
          problems.push(`row ${index}: ${settings.timePath.join('.')} cannot be read`);
        else {
          const future = stats.futureRows;
          stats.add({ turbineId, timeMs, power: readPath(record, settings.powerPath), row: record }, nowMs);
          if (stats.futureRows > future)
            problems.push(
              `row ${index}: ${settings.timePath.join('.')} is more than ${maxFutureSeconds} s ahead of the clock (raise maxFutureSeconds if the clocks differ)`,
            );
        }
      });
      rejected += problems.length;
      for (const p of problems.slice(0, WARNINGS_PER_MSG)) node.warn(`${p}; row left out`);
      const late = stats.lateRows - lateBefore;
      if (late > 0) node.warn(`${late} rows belong to periods already emitted; left out`);
      try {
        emit(send, msg.flush ? stats.flush() : stats.closeReady());
      } catch (err) {
        return done(err as Error);
      }
      showProgress();
      done();
    });

    // The wall clock's one job: when no rows came for idleSeconds, the periods the newest
    // row has passed are emitted without waiting longer for the lateness.
    let lastInputMs = Date.now();
    const idle = setInterval(
      () => {
        if (stats.openRows === 0 || Date.now() - lastInputMs < settings.idleMs) return;
        try {
          emit((msgs) => node.send(msgs ?? undefined), stats.closeIdle());
        } catch (err) {
          node.error(`closing idle periods failed: ${(err as Error).message}`);
        }
        showProgress();
      },
      Math.min(settings.idleMs, 60_000),
    );

    const checkpoints = startCheckpoints(
      settings.checkpointMs,
      () => saveState(node, stats.toJSON()),
      (err) => node.error(`checkpoint failed: ${(err as Error).message}`),
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(idle);
      checkpoints.stop();
      done();
    });
  }

  registerNode(RED, 'turbine-stats', TURBINE_STATS_MIGRATIONS, TurbineStatsNode);
};
