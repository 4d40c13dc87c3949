/** series-rollup under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import {
  describeFuzz,
  eventTime,
  finite,
  type Msg,
  type Spec,
  T0,
  VALID_KEYS,
  validKey,
} from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'series-rollup',
    outputs: 2,
    config: () => ({
      levels: '1m,15m',
      field: 'hz',
      tag: 'series',
      latenessSeconds: 30,
      retentionPolicy: '',
    }),
    keepOutput: (out) => {
      if (out.port === 0) return out;
      const points = (out.msg.payload as Msg[]).filter((p) =>
        VALID_KEYS.includes((p.tags as Msg).series as string),
      );
      return points.length > 0 ? { port: out.port, msg: { ...out.msg, payload: points } } : undefined;
    },
    valid: fc
      .array(fc.record({ series: validKey, timestamp: eventTime(4 * 3600), hz: finite }), {
        minLength: 1,
        maxLength: 6,
      })
      .map((rows) => ({
        payload: rows.map((r) => ({
          measurement: 'grid_frequency',
          tags: { series: r.series },
          fields: { hz: r.hz },
          timestamp: r.timestamp,
        })),
      })),
    invalid: fc.record({
      payload: fc.constantFrom<unknown>(
        null,
        undefined,
        3,
        'points',
        [1, 'x'],
        [{ measurement: 'grid_frequency', tags: {}, fields: { hz: 1 }, timestamp: T0 }],
        [{ measurement: 'grid_frequency', tags: { series: 'chaos' }, fields: { hz: '50,1' }, timestamp: T0 }],
      ),
    }),
    controls: fc.constantFrom<Msg>({ flush: true }),
    rekey: (m) => {
      for (const p of Array.isArray(m.payload) ? m.payload : [m.payload]) {
        const tags = p && typeof p === 'object' ? (p as Msg).tags : undefined;
        if (tags && typeof tags === 'object' && 'series' in tags) (tags as Msg).series = 'chaos';
      }
    },
  },
];

describeFuzz('series-rollup', SPECS);
