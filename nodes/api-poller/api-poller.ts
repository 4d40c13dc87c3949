/**
 * api-poller: polls one URL or a list of targets through an api-endpoint, on a clock
 * aligned interval, continuously at the endpoint's rate limit, or per msg; emits only
 * records newer than the last one emitted per target. The loop is in ./poll-loop.ts,
 * the algorithms in nodes/core (token-bucket, round-robin, record-dedupe, api-targets).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { withDataDirDefault } from '../shared/bundled-data';
import { expandEnv, fillTemplate, parseTargetsCsv, parseTargetsList, type Target } from '../core/api-targets';
import { workerShare } from '../core/round-robin';
import {
  RecordDedupe,
  extractRecords,
  recordTimeMs,
  valueAtPath,
  type DedupeState,
} from '../core/record-dedupe';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { loadState, saveState } from '../shared/node-state';
import { DEFAULT_MAX_FUTURE_MS } from '../core/event-time';
import { clockTime, showStatus } from '../shared/status';
import { nodeSetting, type Msg, type Node, type NodeAPI, type NodeDef } from '../shared/node-red-types';
import type { ApiEndpoint } from '../api-endpoint/api-endpoint-types';
import { PollLoop, type Schedule } from './poll-loop';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { API_POLLER_MIGRATIONS } from './migrations';

interface ApiPollerConfig extends NodeDef {
  endpoint: string;
  url: string;
  targetsFrom: 'none' | 'csv' | 'json' | 'msg';
  targetsFile: string;
  targetsJson: string;
  schedule: Schedule;
  intervalSeconds: string | number;
  offsetSeconds: string | number;
  pollOnStart: boolean;
  recordsPath: string;
  timeField: string;
  timeUnit: 'ms' | 's';
  maxFutureSeconds?: string | number;
  output: 'record' | 'response';
  maxRetries: string | number;
  backoffBaseSeconds: string | number;
  backoffMaxSeconds: string | number;
  watchdogSeconds: string | number;
  workerIndex: string | number;
  workerCount: string | number;
}

export = (RED: NodeAPI) => {
  function ApiPollerNode(this: Node, config: ApiPollerConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const endpoint = RED.nodes.getNode(config.endpoint) as ApiEndpoint | null;
    const lookup = (name: string) =>
      withDataDirDefault(name, nodeSetting(RED, node, name) ?? process.env[name]);
    let s: ReturnType<typeof parseSettings>;
    try {
      if (!endpoint) throw new Error('no api-endpoint selected (choose or add one in the node)');
      s = parseAllSettings(() => parseSettings(config));
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    const settings = s;
    const dedupe = new RecordDedupe(loadState<DedupeState>(node));
    let lastOkMs: number | undefined;
    let blockedReported = false;
    const template = settings.template;
    const single: Target[] = [{}];

    const loop = new PollLoop(
      {
        endpoint,
        template,
        schedule: settings.schedule,
        intervalMs: settings.intervalMs,
        offsetMs: settings.offsetMs,
        pollOnStart: settings.pollOnStart,
        maxRetries: settings.maxRetries,
        backoff: { baseMs: settings.backoffBaseMs, maxMs: settings.backoffMaxMs },
        watchdogMs: settings.watchdogMs,
        onBody: (target, key, body, safeUrl) => emit(target, key, body, safeUrl),
        onSuccess: (nowMs) => {
          lastOkMs = nowMs;
          blockedReported = false;
          showStatus(node, 'ok', `ok ${clockTime(nowMs)}`);
        },
        onFailure: (f) => {
          const since = lastOkMs === undefined ? 'never ok' : `ok ${clockTime(lastOkMs).slice(0, 5)}`;
          showStatus(node, f.retrying ? 'warn' : 'error', `${f.short} (${since})`);
          if (f.retrying) node.warn(f.message);
          else node.error(f.message);
        },
        onBlocked: (reason) => {
          showStatus(node, 'warn', reason.startsWith('API key') ? 'no API key' : 'endpoint not set');
          if (!blockedReported) node.warn(`not polling: ${reason}`);
          blockedReported = true;
        },
        onRestart: (reason) => node.warn(reason),
      },
      settings.targetsFrom === 'none' ? single : [],
    );

    function emit(target: Target, key: string, body: unknown, safeUrl: string): void {
      const extracted = extractRecords(body, settings.recordsPath);
      if (!extracted.ok) {
        node.error(`GET ${safeUrl}: ${extracted.reason}`);
        return;
      }
      const topic = String(target.name ?? key);
      const base = { topic, target: { ...target }, url: safeUrl };
      if (!settings.timeField) {
        const payload =
          settings.output === 'response' ? (settings.recordsPath ? extracted.records : body) : undefined;
        if (payload !== undefined) node.send({ ...base, payload } as Msg);
        else for (const record of extracted.records) node.send({ ...base, payload: record } as Msg);
        return;
      }
      const result = dedupe.take(
        key,
        extracted.records,
        (r) => recordTimeMs(valueAtPath(r, settings.timeField), settings.timeUnit),
        Date.now() + settings.maxFutureMs,
      );
      if (result.untimed > 0)
        node.warn(
          `GET ${safeUrl}: ${result.untimed} record(s) without a readable "${settings.timeField}" dropped`,
        );
      if (result.future > 0)
        node.warn(
          `GET ${safeUrl}: ${result.future} record(s) stamped more than ${settings.maxFutureMs / 1000} s ahead of the clock dropped (maxFutureSeconds)`,
        );
      if (result.fresh.length === 0) return;
      saveState(node, dedupe.toJSON());
      if (settings.output === 'response') {
        const newest = result.fresh[result.fresh.length - 1].timeMs;
        const payload = settings.recordsPath ? result.fresh.map((f) => f.record) : body;
        node.send({ ...base, payload, timestamp: new Date(newest).toISOString() } as Msg);
      } else
        for (const { record, timeMs } of result.fresh)
          node.send({ ...base, payload: record, timestamp: new Date(timeMs).toISOString() } as Msg);
    }

    async function loadTargets(): Promise<Target[]> {
      if (settings.targetsFrom === 'json') return parseTargetsList(settings.targetsJson);
      if (settings.targetsFrom !== 'csv') return [];
      const path = expandEnv(settings.targetsFile, lookup);
      if (path.missing.length > 0) throw new Error(`targets file needs ${path.missing.join(', ')} (unset)`);
      return parseTargetsCsv(await readFile(resolve(path.text), 'utf8'));
    }

    function useTargets(all: Target[]): void {
      const mine = workerShare(all, settings.workerIndex, settings.workerCount);
      for (const t of mine) fillTemplate(template, t); // a template that does not fit fails here, once
      loop.setTargets(mine);
    }

    let closed = false;
    if (settings.targetsFrom === 'csv' || settings.targetsFrom === 'json') {
      loadTargets()
        .then((targets) => {
          if (closed) return;
          useTargets(targets);
          showStatus(node, 'idle', `${loop.targetCount} targets`);
          loop.start();
        })
        .catch((err: Error) => {
          node.error(`targets: ${err.message}`);
          showStatus(node, 'error', 'bad targets');
        });
    } else {
      showStatus(node, 'idle', settings.targetsFrom === 'msg' ? 'waiting for targets' : 'starting');
      loop.start();
    }

    onInput(node, (msg, _send, done) => {
      if (msg.reset) {
        dedupe.reset();
        saveState(node, dedupe.toJSON());
        return done();
      }
      if (settings.targetsFrom === 'msg') {
        try {
          useTargets(parseTargetsList(msg.payload));
        } catch (err) {
          return done(new Error(`msg.payload: ${(err as Error).message}`));
        }
      }
      loop.trigger();
      done();
    });

    node.on('close', (done: () => void) => {
      closed = true;
      loop.stop();
      saveState(node, dedupe.toJSON());
      done();
    });
  }

  function parseSettings(config: ApiPollerConfig) {
    const schedule = config.schedule ?? 'aligned';
    if (!['aligned', 'continuous', 'msg'].includes(schedule))
      throw new Error(`schedule "${schedule}" must be aligned, continuous or msg`);
    const targetsFrom = config.targetsFrom ?? 'none';
    if (!['none', 'csv', 'json', 'msg'].includes(targetsFrom))
      throw new Error(`targetsFrom "${targetsFrom}" must be none, csv, json or msg`);
    const intervalMs = configNumber(config.intervalSeconds, 'intervalSeconds', 60, { min: 0.001 }) * 1000;
    const backoffMaxMs =
      configNumber(config.backoffMaxSeconds, 'backoffMaxSeconds', 60, { min: 0.001 }) * 1000;
    const workerCount = configNumber(config.workerCount, 'workerCount', 1, { min: 1, integer: true });
    const watchdogSeconds = configNumber(config.watchdogSeconds, 'watchdogSeconds', 0, { min: 0 });
    if (targetsFrom === 'csv' && !config.targetsFile)
      throw new Error('targetsFile is empty (a CSV with name,lat,lon)');
    return {
      template: String(config.url ?? '').trim(),
      targetsFrom,
      targetsFile: String(config.targetsFile ?? '').trim(),
      targetsJson: String(config.targetsJson ?? '[]'),
      schedule,
      intervalMs,
      offsetMs: configNumber(config.offsetSeconds, 'offsetSeconds', 0, { min: 0 }) * 1000,
      pollOnStart: config.pollOnStart !== false,
      recordsPath: String(config.recordsPath ?? '').trim(),
      timeField: String(config.timeField ?? '').trim(),
      timeUnit: config.timeUnit === 's' ? ('s' as const) : ('ms' as const),
      maxFutureMs:
        configNumber(config.maxFutureSeconds, 'maxFutureSeconds', DEFAULT_MAX_FUTURE_MS / 1000, { min: 0 }) *
        1000,
      output: config.output === 'response' ? ('response' as const) : ('record' as const),
      maxRetries: configNumber(config.maxRetries, 'maxRetries', 3, { min: 0, integer: true }),
      backoffBaseMs: configNumber(config.backoffBaseSeconds, 'backoffBaseSeconds', 1, { min: 0.001 }) * 1000,
      backoffMaxMs,
      // Default: long enough for a slow interval and a full backoff, short enough to matter.
      watchdogMs: watchdogSeconds > 0 ? watchdogSeconds * 1000 : Math.max(60_000, 2 * backoffMaxMs),
      workerIndex: configNumber(config.workerIndex, 'workerIndex', 0, {
        min: 0,
        max: workerCount - 1,
        integer: true,
      }),
      workerCount,
    };
  }

  registerNode(RED, 'api-poller', API_POLLER_MIGRATIONS, ApiPollerNode);
};
