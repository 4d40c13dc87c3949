/** csv-source under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import {
  describeFuzz,
  completions,
  finite,
  flowFor,
  type Msg,
  nodeModule,
  settle,
  type Spec,
  T0,
  type TestNode,
  waitDone,
} from '../harness/fuzz';

const CSV_HEADER = 'time,turbine,power';

const goodRow = fc
  .record({ s: fc.integer({ min: 0, max: 86_400 }), t: fc.constantFrom('t1', 't2'), p: finite })
  .map(({ s, t, p }) => `${new Date(T0 + s * 1000).toISOString()},${t},${p}`);

const badRow = fc.oneof(
  fc.constant('only-one-field'),
  fc.constant('2024-01-01T00:00:00Z,t1,1,extra'),
  fc.stringMatching(/^[a-z]{1,8}$/).map((w) => `2024-01-01T00:00:00Z,t1,x${w}`),
  fc.stringMatching(/^[a-z]{1,8}$/).map((w) => `no-time-${w},t1,1`),
  fc.constant('2024-02-30T00:00:00Z,t1,1'),
);

const csvSource: Spec = {
  type: 'csv-source',
  outputs: 2,
  config: () => ({
    path: '',
    delimiter: ',',
    quote: '"',
    hasHeader: true,
    columns: '',
    timeColumn: 'time',
    timeFormat: 'auto',
    timezone: 'UTC',
    numberColumns: 'power',
    output: 'rows',
    batchSize: 3,
  }),
  valid: fc
    .array(goodRow, { minLength: 1, maxLength: 7 })
    .map((rows) => ({ payload: [CSV_HEADER, ...rows].join('\n') })),
  invalid: fc.oneof(
    fc
      .tuple(fc.array(goodRow, { maxLength: 3 }), fc.array(badRow, { minLength: 1, maxLength: 3 }))
      .map(([good, bad]) => ({ payload: [CSV_HEADER, ...bad, ...good].join('\n') })),
    fc.record({ payload: fc.constantFrom<unknown>(undefined, null, 42, '', '   ', {}, []) }),
  ),
  reportedBy: ['warn'],
  doneTimeoutMs: 10_000,
};

describeFuzz('csv-source', [csvSource], {}, (env) => {
  it('csv-source: malformed rows are reported with their line numbers and the good rows still come out', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            goodRow.map((text) => ({ good: true, text })),
            badRow.map((text) => ({ good: false, text })),
          ),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        async (rows) => {
          try {
            await helper.load(nodeModule('csv-source'), flowFor(csvSource, env()));
            const node = helper.getNode('sut') as unknown as TestNode;
            const warnings: string[] = [];
            const warn = node.warn.bind(node);
            node.warn = (text: unknown) => {
              warnings.push(String(text));
              warn(text);
            };
            const batches: Msg[] = [];
            const reports: Msg[] = [];
            helper.getNode('sut-out0').on('input', (m: Msg) => batches.push(m));
            helper.getNode('sut-out1').on('input', (m: Msg) => reports.push(m));
            const msg = { payload: [CSV_HEADER, ...rows.map((r) => r.text)].join('\n') };
            node.receive(msg);
            await waitDone(msg, 10_000);
            await settle();
            assert.equal(completions.get(msg)?.length, 1, 'done once');
            assert.equal(completions.get(msg)?.[0], undefined, 'bad rows do not fail the whole msg');
            const records = batches.flatMap((b) => b.payload as Msg[]);
            const goodLines = rows.flatMap((r, i) => (r.good ? [i + 2] : []));
            const badLines = rows.flatMap((r, i) => (r.good ? [] : [i + 2]));
            assert.equal(records.length, goodLines.length, 'one record per good row');
            records.forEach((rec, i) => {
              const [time, turbine, power] = rows.filter((r) => r.good)[i].text.split(',');
              assert.equal(rec.turbine, turbine);
              assert.equal(rec.power, Number(power));
              assert.equal(new Date(rec.time as string).getTime(), new Date(time).getTime());
            });
            const file = reports.find((r) => r.topic === 'file')?.payload as {
              badRows: number;
              bad: { line: number }[];
            };
            assert.equal(file.badRows, badLines.length, 'bad row count in the report');
            assert.deepEqual(
              file.bad.map((b) => b.line),
              badLines,
              'bad rows listed with their line numbers',
            );
            for (const line of badLines.slice(0, 10))
              assert.ok(
                warnings.some((w) => w.includes(`:${line}:`)),
                `no warning names line ${line}: ${warnings.join(' | ')}`,
              );
          } finally {
            await helper.unload();
          }
        },
      ),
      { numRuns: 30, endOnFailure: true },
    );
  });
});
