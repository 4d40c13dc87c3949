/** turbine-stats under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import { describeFuzz, eventTime, finite, type Msg, type Spec, T0, VALID_TURBINES } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'turbine-stats',
    outputs: 2,
    // Periods close on flush only: with closeOnData a random row's later time would close the
    // valid turbines' periods too (by design), which is not what this test is about.
    config: () => ({
      periodSeconds: 3600,
      timezone: 'UTC',
      impute: 'linear',
      minPower: '',
      maxPower: '',
      closeOnData: false,
    }),
    keepOutput: (out) => {
      const rows = (out.msg.payload as Msg[]).filter((r) => VALID_TURBINES.includes(r.turbine_id as string));
      return rows.length > 0 ? { port: out.port, msg: { ...out.msg, payload: rows } } : undefined;
    },
    valid: fc
      .array(
        fc.record({
          turbine_id: fc.constantFrom(...VALID_TURBINES),
          timestamp: eventTime(4 * 3600),
          power_output: fc.oneof(finite, fc.constant(null)),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((rows) => ({ payload: rows })),
    invalid: fc.oneof(
      fc.record({ payload: fc.constantFrom<unknown>(null, 3, 'rows', true, undefined, []) }),
      fc.record({ payload: fc.constantFrom<unknown>([1, 2], ['x'], [{ timestamp: T0, power_output: 1 }]) }),
    ),
    controls: fc.constantFrom<Msg>({ flush: true }),
    rekey: (m) => {
      for (const row of Array.isArray(m.payload) ? m.payload : [m.payload])
        if (row && typeof row === 'object' && 'turbine_id' in row) (row as Msg).turbine_id = 'chaos';
    },
    reportedBy: ['warn'],
  },
];

describeFuzz('turbine-stats', SPECS);
