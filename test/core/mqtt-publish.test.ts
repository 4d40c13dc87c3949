import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { payloadBytes, publishesOf, topicProblem } from '../../nodes/core/mqtt-publish';

describe('mqtt-publish (what a msg wired into the embedded broker publishes)', () => {
  it('writes payloads as mqtt out does: Buffer as is, string as text, null as empty, the rest as JSON', () => {
    const buf = Buffer.from([1, 2, 3]);
    assert.equal(payloadBytes(buf), buf);
    assert.equal(payloadBytes('Zürich').toString(), 'Zürich');
    assert.equal(payloadBytes(null).length, 0);
    assert.equal(payloadBytes(undefined).length, 0);
    assert.equal(payloadBytes(1.5).toString(), '1.5');
    assert.equal(payloadBytes(false).toString(), 'false');
    assert.equal(payloadBytes({ a: [1, null] }).toString(), '{"a":[1,null]}');
  });

  it('refuses topics a publish may not have', () => {
    for (const bad of ['', 'a/+', 'a/#', '$SYS/x', 'a\u0000b', 'x'.repeat(65_536), 7, undefined, {}])
      assert.ok(topicProblem(bad), `${String(bad).slice(0, 20)} refused`);
    for (const good of ['a', 'gridflow/grid-now/SolarPower/avg5m', '/leading', 'a//b', 'ünï/cøde'])
      assert.equal(topicProblem(good), undefined, good);
  });

  it('a msg with a topic is one message, whatever its payload (an array too)', () => {
    assert.deepEqual(publishesOf({ topic: 't', payload: [{ topic: 'x', payload: 1 }], retain: 'true' }), {
      publishes: [{ topic: 't', payload: Buffer.from('[{"topic":"x","payload":1}]'), qos: 0, retain: true }],
      refused: [],
    });
  });

  it('a batch publishes exactly its items with a good topic, in order, and names each item left out', () => {
    const item = fc.oneof(
      fc.record({
        topic: fc.oneof(fc.constantFrom('a/b', 'gridflow/x', '+', 'a/#', '', '$SYS/y'), fc.string()),
        payload: fc.oneof(
          fc.double(),
          fc.string(),
          fc.constant(null),
          fc.dictionary(fc.string(), fc.integer()),
        ),
      }),
      fc.constantFrom<unknown>(7, 'text', null, [1]),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), fc.boolean(), (items, retain) => {
        const { publishes, refused } = publishesOf({ payload: items, retain });
        // Naive reference: each item on its own.
        const want = items.flatMap((it) => {
          if (typeof it !== 'object' || it === null || Array.isArray(it)) return [];
          const { topic, payload } = it as { topic: unknown; payload: unknown };
          if (topicProblem(topic) !== undefined) return [];
          const text =
            payload === null ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
          return [{ topic, text }];
        });
        assert.deepEqual(
          publishes.map((p) => ({ topic: p.topic, text: p.payload.toString() })),
          want,
        );
        assert.ok(publishes.every((p) => p.retain === retain && p.qos === 0));
        assert.equal(refused.length, items.length - want.length);
        for (const reason of refused) assert.match(reason, /^msg\.payload\[\d+\]/);
      }),
    );
  });

  it('refuses QoS 1 and 2 with the advice to use mqtt out, and a qos that is no QoS', () => {
    assert.match(publishesOf({ topic: 't', payload: 1, qos: 1 }).refused[0], /use an mqtt out node/);
    assert.match(publishesOf({ topic: 't', payload: 1, qos: '2' }).refused[0], /use an mqtt out node/);
    assert.match(publishesOf({ topic: 't', payload: 1, qos: 'x' }).refused[0], /is not 0, 1 or 2/);
    assert.equal(publishesOf({ topic: 't', payload: 1, qos: '0' }).publishes.length, 1);
  });

  it('an item whose payload cannot be JSON is left out, the others go', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const { publishes, refused } = publishesOf({
      payload: [
        { topic: 'a', payload: circular },
        { topic: 'b', payload: 1n },
        { topic: 'c', payload: 2 },
      ],
    });
    assert.deepEqual(
      publishes.map((p) => p.topic),
      ['c'],
    );
    assert.equal(refused.length, 2);
    assert.match(refused[0], /msg\.payload\[0\]\.payload cannot be written as JSON/);
  });
});
