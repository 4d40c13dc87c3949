import { strict as assert } from 'node:assert';
import { decodePayload } from '../../nodes/core/mqtt-receive';

describe('mqtt-receive (payloads the aedes-broker node sends for what clients publish)', () => {
  const b = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));
  it('auto-detect: parsed JSON, else the text, else the bytes', () => {
    assert.deepEqual(decodePayload(b('{"v":[1,2]}'), 'auto'), { ok: true, payload: { v: [1, 2] } });
    assert.deepEqual(decodePayload(b('42'), 'auto'), { ok: true, payload: 42 });
    assert.deepEqual(decodePayload(b('Zürich 5 kW'), 'auto'), { ok: true, payload: 'Zürich 5 kW' });
    assert.deepEqual(decodePayload(b([0xff, 0x00]), 'auto'), { ok: true, payload: b([0xff, 0x00]) });
    assert.deepEqual(decodePayload(b(''), 'auto'), { ok: true, payload: '' });
  });
  it('json refuses what is not JSON; utf8 refuses what is not text; buffer takes anything', () => {
    assert.deepEqual(decodePayload(b('{"v":1}'), 'json'), { ok: true, payload: { v: 1 } });
    assert.deepEqual(decodePayload(b('nope'), 'json'), { ok: false, reason: 'the payload is not JSON' });
    assert.deepEqual(decodePayload(b([0xc3]), 'json'), {
      ok: false,
      reason: 'the payload is not UTF-8 text',
    });
    assert.deepEqual(decodePayload(b('{"v":1}'), 'utf8'), { ok: true, payload: '{"v":1}' });
    assert.deepEqual(decodePayload(b([0xc3]), 'utf8'), {
      ok: false,
      reason: 'the payload is not UTF-8 text',
    });
    assert.deepEqual(decodePayload(b([1, 2]), 'buffer'), { ok: true, payload: b([1, 2]) });
  });
});
