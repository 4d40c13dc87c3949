/**
 * carbon-footprint: joins cov-resampler half hours (power → energy kWh) with the Carbon
 * Intensity API (gCO2eq/kWh) on HalfHourId → footprint rows, 48 per asset and UTC day.
 * Output 1: one msg per row for `mqtt out`; output 2: the day's `carbon_footprint` points
 * for `influx-write`; output 3: the dates whose intensity is still missing, as targets for
 * an `api-poller` (`{{date}}`, `{{next}}`). The join itself is nodes/core/carbon-footprint.ts.
 */
import {
  FootprintJoin,
  footprintPoint,
  readPowerBucket,
  utcDayStart,
  type FootprintDay,
  type FootprintJoinState,
  type IntensityEntry,
} from '../core/carbon-footprint';
import { configNumber } from '../shared/config-number';
import { readKey, readMsgPath } from '../shared/msg-property';
import { loadState, saveState } from '../shared/node-state';
import { showStatus } from '../shared/status';
import type { Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { CARBON_FOOTPRINT_MIGRATIONS } from './migrations';

interface CarbonFootprintConfig extends NodeDef {
  keyProperty: string;
  dateProperty: string;
  topic: string;
  keepDays: string | number;
}

const DAY_MS = 86_400_000;

/** API entries from a poller msg: the whole answer `{data: [...]}`, the array, or one entry. */
function readEntries(payload: unknown): IntensityEntry[] | undefined {
  if (Array.isArray(payload)) return payload.every(isEntry) ? (payload as IntensityEntry[]) : undefined;
  if (payload && typeof payload === 'object') {
    const data = (payload as { data?: unknown }).data;
    if (Array.isArray(data)) return readEntries(data);
    if (isEntry(payload)) return [payload as IntensityEntry];
  }
  return undefined;
}

function isEntry(value: unknown): boolean {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as IntensityEntry).from === 'string' &&
    'intensity' in value
  );
}

export = (RED: NodeAPI) => {
  function CarbonFootprintNode(this: Node, config: CarbonFootprintConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let keepDays: number;
    try {
      keepDays = configNumber(config.keepDays, 'keepDays', 7, { min: 1, max: 366, integer: true });
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    const keyProperty = (config.keyProperty || 'topic').trim();
    const dateProperty = (config.dateProperty ?? 'target.date').trim();
    const topicTemplate = (config.topic || 'gridflow/carbon/{asset}/footprint').trim();
    let join = FootprintJoin.fromJSON(loadState<FootprintJoinState>(node), keepDays);
    const asked = new Set<string>();
    let daysOut = 0;

    function emit(days: FootprintDay[], send: Send): void {
      for (const day of days) {
        const topic = topicTemplate.replace('{asset}', day.assetId);
        const rowMsgs = day.rows.map((row) => ({ topic, payload: { time: row.start, ...row } }) as Msg);
        const points = day.rows.map((row) => footprintPoint(day.assetId, row));
        send([rowMsgs, { topic: day.assetId, date: day.date, payload: points } as Msg, null]);
        daysOut++;
      }
      if (days.length > 0) showStatus(node, 'ok', `${daysOut} asset-days`);
    }

    /** Targets for the poller: every date with buckets whose intensities are still unknown. */
    function askForIntensities(send: Send, again: boolean): void {
      const missing = join.datesWithoutIntensity();
      if (missing.length === 0 || (!again && missing.every((d) => asked.has(d)))) return;
      missing.forEach((d) => asked.add(d));
      const targets = missing.map((date) => ({
        date,
        next: new Date(utcDayStart(date) + DAY_MS).toISOString().slice(0, 10),
      }));
      send([null, null, { topic: 'intensity', payload: targets } as Msg]);
      showStatus(node, 'busy', `asking ${missing.length} day${missing.length > 1 ? 's' : ''}`);
    }

    onInput(node, (msg, send, done) => {
      if (msg.reset) {
        join = new FootprintJoin(keepDays);
        asked.clear();
        saveState(node, join.toJSON());
        showStatus(node, 'idle', 'reset');
        return done();
      }
      const entries = readEntries(msg.payload);
      if (entries) {
        if (entries.length === 0) {
          // an empty answer says nothing: keep asking rather than fill the day with nulls
          showStatus(node, 'warn', 'no intensity data');
          return done();
        }
        const rawDate = dateProperty ? readMsgPath(RED, msg, dateProperty) : undefined;
        const date = typeof rawDate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(rawDate) ? rawDate : undefined;
        emit(join.addIntensities(entries, date), send);
        saveState(node, join.toJSON());
        return done();
      }
      const bucket = readPowerBucket(msg.payload);
      if (typeof bucket === 'string') {
        showStatus(node, 'warn', 'bad input');
        return done(new Error(`${bucket}; expected a cov-resampler bucket or Carbon Intensity API entries`));
      }
      const assetId = readKey(readMsgPath(RED, msg, keyProperty));
      if (!assetId || /[/+#]/.test(assetId)) {
        showStatus(node, 'warn', 'bad asset id');
        return done(
          new Error(`asset id in msg.${keyProperty} must be non-empty text without "/", "+" or "#"`),
        );
      }
      emit(join.addBucket(assetId, bucket), send);
      // ask when a date first appears, and again when a day closes still without intensities
      askForIntensities(send, bucket.endMs % DAY_MS === 0);
      saveState(node, join.toJSON());
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      saveState(node, join.toJSON());
      done();
    });
  }
  registerNode(RED, 'carbon-footprint', CARBON_FOOTPRINT_MIGRATIONS, CarbonFootprintNode);
};
