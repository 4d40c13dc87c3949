/** carbon-footprint under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import {
  describeFuzz,
  finite,
  halfHour,
  type Msg,
  type Spec,
  T0,
  topicOff,
  VALID_KEYS,
  validKey,
} from '../harness/fuzz';

const bucketMsg = fc
  .record({ topic: validKey, i: fc.integer({ min: 0, max: 95 }), mean: finite })
  .map(({ topic, i, mean }) => ({
    topic,
    payload: {
      bucket_id: (i % 48) + 1,
      start: new Date(halfHour(i)).toISOString(),
      end: new Date(halfHour(i + 1)).toISOString(),
      mean,
      energy: mean / 2,
      count: 3,
      filled: false,
      stale: false,
    },
  }));

const intensityMsg = fc
  .record({
    day: fc.integer({ min: 0, max: 1 }),
    values: fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 48, maxLength: 48 }),
  })
  .map(({ day, values }) => {
    const date = new Date(T0 + day * 86_400_000).toISOString().slice(0, 10);
    return {
      topic: 'intensity',
      target: { date },
      payload: {
        data: values.map((v, i) => ({
          from: new Date(T0 + day * 86_400_000 + i * 1_800_000).toISOString().replace(':00.000Z', 'Z'),
          to: new Date(T0 + day * 86_400_000 + (i + 1) * 1_800_000).toISOString().replace(':00.000Z', 'Z'),
          intensity: { forecast: v, actual: v, index: 'moderate' },
        })),
      },
    };
  });

const SPECS: Spec[] = [
  {
    type: 'carbon-footprint',
    outputs: 3,
    config: () => ({ keyProperty: 'topic', dateProperty: 'target.date', keepDays: 7 }),
    valid: fc.oneof({ weight: 4, arbitrary: bucketMsg }, { weight: 1, arbitrary: intensityMsg }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: fc.constantFrom<unknown>(null, 3, 'x', true, undefined) }),
      fc.record({
        topic: validKey,
        payload: fc.constant({ start: '2024-01-01T00:10:00Z', end: '2024-01-01T00:40:00Z', mean: 1 }),
      }),
      fc.record({
        topic: fc.constantFrom<unknown>('a/b', '#', '', {}),
        payload: fc.constant({ start: '2024-01-01T00:00:00Z', end: '2024-01-01T00:30:00Z', mean: 1 }),
      }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true }),
    // Rows and points of the valid assets; output 3 (dates still without intensity) is per
    // date for all assets together, so a random asset's bucket changes it by design.
    keepOutput: (out) => {
      if (out.port === 2) return undefined;
      const topic = String(out.msg.topic);
      return VALID_KEYS.some((k) => topic === k || topic.includes(`/${k}/`)) ? out : undefined;
    },
    rekey: (m) => {
      topicOff(m);
      // Random intensity entries would join with the valid buckets: keep them off the valid days.
      const p = m.payload as { data?: unknown } | unknown[] | null;
      if (Array.isArray(p) || (p && typeof p === 'object' && Array.isArray((p as { data?: unknown }).data)))
        m.payload = 'not intensity';
    },
  },
];

describeFuzz('carbon-footprint', SPECS);
