import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import endpointNode from '../../nodes/api-endpoint/api-endpoint';
import pollerNode from '../../nodes/api-poller/api-poller';
import { activeRequests } from '../../nodes/api-poller/http-get';
import { PollLoop, type PollFailure } from '../../nodes/api-poller/poll-loop';
import { TokenBucket } from '../../nodes/core/token-bucket';
import type { ApiEndpoint } from '../../nodes/api-endpoint/api-endpoint-types';
import {
  oneCallWithRain,
  powerSystemRightNow,
  startReplayServer,
  type ReplayServer,
} from '../harness/replay-server';

helper.init(require.resolve('node-red'));

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const EDS_PATH = '/dataset/PowerSystemRightNow';
const START = Date.UTC(2024, 6, 5, 12, 0, 30);
const realSetTimeout = setTimeout;
const realWait = (ms: number) => new Promise((r) => realSetTimeout(r, ms));

/** Fake time moves only here; between timer firings the real loopback I/O settles. */
async function settle(api: ReplayServer): Promise<void> {
  // Every GET the poller started has been answered (or hangs on purpose), then msgs are delivered.
  for (let i = 0; i < 5000 && (activeRequests() > api.hanging || api.answering > 0); i++) await realWait(1);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

async function advance(clock: sinon.SinonFakeTimers, api: ReplayServer, ms: number): Promise<void> {
  // One timer at a time, with the I/O it starts settled before the next; a sentinel stops at `ms`.
  let reached = false;
  setTimeout(() => (reached = true), ms);
  await settle(api);
  while (!reached) {
    await clock.nextAsync();
    await settle(api);
  }
}

/** Most requests in any sliding window of `windowMs` (half-open). */
function maxPerWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

function endpoint(api: ReplayServer, extra: Record<string, unknown> = {}) {
  return {
    id: 'ep',
    type: 'api-endpoint',
    baseUrl: api.url,
    authIn: 'none',
    keyRequired: false,
    timeoutSeconds: 2,
    rateRequests: 60,
    ratePeriodSeconds: 60,
    ...extra,
  };
}

function edsPoller(extra: Record<string, unknown> = {}) {
  return {
    id: 'poller',
    type: 'api-poller',
    endpoint: 'ep',
    url: `${EDS_PATH}?start=now-PT10M`,
    schedule: 'aligned',
    intervalSeconds: 60,
    recordsPath: 'records',
    timeField: 'Minutes1UTC',
    output: 'record',
    backoffBaseSeconds: 1,
    backoffMaxSeconds: 30,
    wires: [['out']],
    ...extra,
  };
}

describe('api-poller (with api-endpoint and a replay server)', function () {
  this.timeout(30_000);
  let api: ReplayServer;
  let clock: sinon.SinonFakeTimers;
  let msgs: Msg[];
  let statuses: string[];

  beforeEach(async () => {
    api = await startReplayServer();
    api.route(EDS_PATH, () => powerSystemRightNow({ nowMs: Date.now(), minutes: 10 }));
    msgs = [];
    statuses = [];
    clock = sinon.useFakeTimers({
      now: START,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
  });

  afterEach(async () => {
    await helper.unload();
    clock.restore();
    await api.close();
  });

  async function load(flow: Record<string, unknown>[], credentials: Record<string, unknown> = {}) {
    const nodes = [...flow, { id: 'out', type: 'helper' }] as unknown as Parameters<typeof helper.load>[1];
    await helper.load([endpointNode, pollerNode], nodes, credentials as Parameters<typeof helper.load>[2]);
    helper.getNode('out').on('input', (msg: Msg) => msgs.push(msg));
    for (const node of flow) {
      const n = helper.getNode((node as { id: string }).id) as unknown as NodeJS.EventEmitter | null;
      n?.on('call:status', (call: sinon.SinonSpyCall) => statuses.push(String(call.args[0]?.text ?? '')));
    }
  }

  const logged = (level: number) =>
    helper
      .log()
      .args.map((a: unknown[]) => a[0] as { level: number; msg: unknown })
      .filter((e: { level: number }) => e.level === level)
      .map((e: { msg: unknown }) => String(e.msg));

  it('emits each minute once across overlapping now-PT10M polls, oldest first, with UTC timestamps', async () => {
    await load([endpoint(api), edsPoller()]);
    await advance(clock, api, 3 * 60_000); // start poll at 12:00:30, then 12:01, 12:02, 12:03
    assert.equal(api.requests(EDS_PATH).length, 4);
    const times = msgs.map((m) => m.payload.Minutes1UTC);
    assert.equal(times.length, 13, `10 records at start, then one new per minute: ${times.join(' ')}`);
    assert.equal(new Set(times).size, times.length, 'no record twice');
    assert.deepEqual(times, [...times].sort());
    assert.equal(times[0], '2024-07-05T11:51:00');
    assert.equal(times[12], '2024-07-05T12:03:00');
    assert.equal(msgs[0].timestamp, '2024-07-05T11:51:00.000Z', 'zone-less Minutes1UTC read as UTC');
    assert.equal(typeof msgs[0].payload.CO2Emission, 'number');
    assert.match(statuses.at(-1)!, /^ok 12:03:00/);
  });

  it('recovers from 429 (honouring Retry-After), 500 and a hung request, then emits', async () => {
    api.fault(
      EDS_PATH,
      { kind: 'status', status: 429, retryAfter: '7' },
      { kind: 'status', status: 500 },
      { kind: 'hang' },
    );
    await load([endpoint(api), edsPoller({ maxRetries: 3 })]);
    await advance(clock, api, 25_000);
    const requests = api.requests(EDS_PATH);
    assert.deepEqual(
      requests.map((r) => r.outcome),
      ['429', '500', 'hang', '200'],
    );
    assert.ok(requests[1].time - requests[0].time >= 7000, 'waited the Retry-After of 7 s');
    assert.ok(requests[2].time - requests[1].time >= 1000, 'backed off after the 500');
    assert.ok(requests[3].time - requests[2].time >= 2000, 'timed out (2 s), then backed off');
    assert.equal(msgs.length, 10);
    assert.deepEqual(
      statuses.filter((s) => !s.startsWith('ok')),
      ['starting', 'HTTP 429 (never ok)', 'HTTP 500 (never ok)', 'timeout (never ok)'],
    );
    assert.match(statuses.at(-1)!, /^ok 12:00:/);
    assert.equal(logged(20).length, 0, 'retried failures are warnings, not errors');
    assert.equal(logged(30).filter((m) => m.startsWith('GET')).length, 3);
  });

  it('reports garbage and truncated JSON with the first bytes, without a retry storm', async () => {
    api.fault(EDS_PATH, { kind: 'garbage' }, { kind: 'truncated' });
    await load([endpoint(api), edsPoller()]);
    await advance(clock, api, 30_000 - 1); // until just before 12:01
    assert.equal(api.requests(EDS_PATH).length, 1, 'malformed JSON is not retried at once');
    assert.match(logged(20)[0], /malformed JSON.*first bytes: "<html><body>502 Bad Gateway/);
    assert.equal(statuses.at(-1), 'bad JSON (never ok)');
    await advance(clock, api, 60_000); // 12:01 truncated, 12:02 ok... not yet: 12:01:59
    assert.equal(api.requests(EDS_PATH).length, 2);
    assert.match(logged(20)[1], /malformed JSON.*first bytes: "\{/);
    await advance(clock, api, 60_000);
    assert.equal(msgs.length, 10);
    assert.match(statuses.at(-1)!, /^ok 12:02:00/);
  });

  it('reports a 4xx with its body once and does not retry it', async () => {
    api.fault(EDS_PATH, {
      kind: 'status',
      status: 404,
      body: '{"error":"dataset PowerSystemRightNo unknown"}',
    });
    await load([endpoint(api), edsPoller()]);
    await advance(clock, api, 29_000);
    assert.equal(api.requests(EDS_PATH).length, 1);
    assert.match(logged(20)[0], /HTTP 404 \{"error":"dataset PowerSystemRightNo unknown"\}.*not retried/);
    assert.equal(statuses.at(-1), 'HTTP 404 (never ok)');
  });

  it('retries a refused connection and says so in the status until the server is back', async () => {
    await api.refuse();
    await load([endpoint(api), edsPoller({ maxRetries: 5 })]);
    await advance(clock, api, 2500);
    assert.match(statuses.at(-1)!, /^refused \(never ok\)$/);
    await api.accept();
    await advance(clock, api, 20_000);
    assert.equal(msgs.length, 10);
    assert.match(statuses.at(-1)!, /^ok 12:00/);
  });

  it('emits each record once from a 100× response', async () => {
    api.fault(EDS_PATH, { kind: 'large', factor: 100 });
    await load([endpoint(api), edsPoller()]);
    await advance(clock, api, 1000);
    assert.equal(api.requests(EDS_PATH)[0].outcome, 'large');
    assert.equal(msgs.length, 10);
  });

  it('refreshes each of 52 locations every ~52 s at 60/min, never above the rate in any sliding minute', async () => {
    const locations = Array.from({ length: 52 }, (_x, i) => ({ name: `loc${i}`, lat: 52 + i / 100, lon: 5 }));
    api.route('/data/3.0/onecall', (req) =>
      oneCallWithRain({ lat: Number(req.query.get('lat')), lon: 5, nowMs: Date.now(), rainMmPerHour: 0.6 }),
    );
    await load([
      endpoint(api),
      {
        id: 'weather',
        type: 'api-poller',
        endpoint: 'ep',
        url: '/data/3.0/onecall?lat={{lat}}&lon={{lon}}',
        targetsFrom: 'json',
        targetsJson: JSON.stringify(locations),
        schedule: 'continuous',
        timeField: 'current.dt',
        timeUnit: 's',
        wires: [['out']],
      },
      // A second poller on the same endpoint shares the same 60/min.
      edsPoller({ id: 'eds', intervalSeconds: 10, wires: [] }),
    ]);
    await advance(clock, api, 4 * 60_000);
    const all = api.log.map((r) => r.time);
    assert.ok(
      maxPerWindow(all, 60_000) <= 60,
      `at most 60 per sliding minute, saw ${maxPerWindow(all, 60_000)}`,
    );
    assert.ok(all.length >= 235, `the rate is used, not wasted: ${all.length} requests in 4 min`);
    const weather = api.requests('/data/3.0/onecall');
    const eds = api.requests(EDS_PATH);
    assert.ok(eds.length >= 20, `the other poller still gets its share: ${eds.length}`);
    // Each location is refreshed at even intervals: 52 weather + the EDS polls per cycle.
    const perLocation = new Map<string, number[]>();
    for (const r of weather)
      perLocation.set(r.query.get('lat')!, [...(perLocation.get(r.query.get('lat')!) ?? []), r.time]);
    assert.equal(perLocation.size, 52);
    const gaps = [...perLocation.values()].flatMap((ts) => ts.slice(1).map((t, i) => t - ts[i]));
    const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(meanGap >= 52_000 && meanGap <= 60_000, `mean refresh ${meanGap} ms`);
    assert.ok(
      Math.max(...gaps) - Math.min(...gaps) <= 8000,
      'fair: no location waits much longer than another',
    );
    assert.equal(msgs.length, weather.length, 'one msg per One Call response');
    assert.deepEqual(msgs[0].target, locations[0]);
  });

  it('paces 52 locations alone at exactly one request per second: each refreshed every 52 s', async () => {
    const locations = Array.from({ length: 52 }, (_x, i) => [52 + i / 100, 5]);
    api.route('/data/3.0/onecall', () => ({ ok: true }));
    await load([
      endpoint(api),
      {
        id: 'weather',
        type: 'api-poller',
        endpoint: 'ep',
        url: '/data/3.0/onecall?lat={{lat}}&lon={{lon}}',
        targetsFrom: 'json',
        targetsJson: JSON.stringify(locations),
        schedule: 'continuous',
        wires: [['out']],
      },
    ]);
    await advance(clock, api, 3 * 60_000);
    const times = api.log.map((r) => r.time);
    assert.equal(maxPerWindow(times, 60_000), 60);
    const first = api.log.filter((r) => r.query.get('lat') === '52').map((r) => r.time);
    assert.deepEqual(
      first.slice(1).map((t, i) => t - first[i]),
      [52_000, 52_000, 52_000],
    );
  });

  it('sends the key, but never shows it in msgs, status, logs or errors', async () => {
    const key = 'sekret-key-123';
    api.route('/data/3.0/onecall', (req) => ({ echo: req.query.toString(), current: { dt: 1 } }));
    api.fault('/data/3.0/onecall', {
      kind: 'status',
      status: 401,
      body: `{"cod":401,"message":"Invalid API key ${key}"}`,
    });
    await load(
      [
        endpoint(api, { authIn: 'query', authName: 'appid', keyRequired: true }),
        {
          id: 'weather',
          type: 'api-poller',
          endpoint: 'ep',
          url: '/data/3.0/onecall?lat={{lat}}&lon={{lon}}',
          targetsFrom: 'json',
          targetsJson: '[[52.1,5.1],[52.2,5.2]]',
          schedule: 'continuous',
          output: 'response',
          wires: [['out']],
        },
      ],
      { ep: { apiKey: key } },
    );
    await advance(clock, api, 3000);
    assert.equal(api.log[0].query.get('appid'), key, 'the server got the key');
    assert.ok(msgs.length >= 1);
    assert.match(msgs[0].url, /appid=\*\*\*/);
    const everything = JSON.stringify([
      msgs.map((m) => ({ ...m, payload: undefined })),
      statuses,
      helper.log().args,
    ]);
    assert.ok(everything.includes('Invalid API key ***'), 'the error with the body was logged, redacted');
    assert.ok(!everything.includes(key), 'no key anywhere');
  });

  it('says so in the status and calls nothing when a required key is missing', async () => {
    await load([
      endpoint(api, { authIn: 'query', keyRequired: true, keyEnv: 'GRIDFLOW_TEST_NO_SUCH_KEY' }),
      edsPoller(),
    ]);
    await advance(clock, api, 2 * 60_000);
    assert.equal(api.log.length, 0);
    assert.equal(statuses.at(-1), 'no API key');
    assert.equal(logged(30).filter((m) => /API key missing.*GRIDFLOW_TEST_NO_SUCH_KEY/.test(m)).length, 1);
  });

  it('polls the targets in msg.payload when a msg arrives, and msg.reset forgets the marks', async () => {
    await load([
      endpoint(api),
      edsPoller({ schedule: 'msg', url: '/dataset/{{value}}?start=now-PT10M', targetsFrom: 'msg' }),
    ]);
    await advance(clock, api, 60_000);
    assert.equal(api.log.length, 0);
    helper.getNode('poller').receive({ payload: ['PowerSystemRightNow'] });
    await advance(clock, api, 1000);
    assert.equal(msgs.length, 10);
    helper.getNode('poller').receive({ payload: ['PowerSystemRightNow'] });
    await advance(clock, api, 2000);
    assert.equal(msgs.length, 10, 'same records: nothing new');
    helper.getNode('poller').receive({ reset: true });
    helper.getNode('poller').receive({ payload: ['PowerSystemRightNow'] });
    await advance(clock, api, 2000);
    assert.equal(msgs.length, 20);
    assert.equal(api.log.length, 3);
  });
});

describe('api-poller loop watchdog', () => {
  it('restarts a loop that a thrown error left with nothing scheduled, and polls again', async () => {
    const api = await startReplayServer();
    api.route('/x', { ok: 1 });
    const clock = sinon.useFakeTimers({
      now: START,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
    let broken = true;
    const endpoint = {
      bucket: new TokenBucket({ requests: 60, periodMs: 60_000 }),
      timeoutMs: 2000,
      maxBytes: 1e6,
      problem: () => {
        if (broken) throw new Error('a bug');
        return undefined;
      },
      prepare: (path: string) => ({ url: api.url + path, safeUrl: api.url + path, headers: {} }),
      redact: (t: string) => t,
      agentFor: () => undefined,
    } as unknown as ApiEndpoint;
    const failures: PollFailure[] = [];
    const restarts: string[] = [];
    const bodies: unknown[] = [];
    const loop = new PollLoop(
      {
        endpoint,
        template: '/x',
        schedule: 'aligned',
        intervalMs: 3_600_000,
        offsetMs: 0,
        pollOnStart: true,
        maxRetries: 1,
        backoff: { baseMs: 1000, maxMs: 5000 },
        watchdogMs: 10_000,
        onBody: (_t, _k, body) => bodies.push(body),
        onSuccess: () => {},
        onFailure: (f) => failures.push(f),
        onBlocked: () => {},
        onRestart: (reason) => restarts.push(reason),
      },
      [{}],
    );
    try {
      loop.start();
      assert.equal(failures[0]?.short, 'internal error');
      broken = false;
      await advance(clock, api, 30_000);
      assert.equal(restarts.length, 1, restarts.join('; '));
      assert.match(restarts[0], /watchdog: the pass stalled; restarted/);
      assert.deepEqual(bodies, [{ ok: 1 }]);
      assert.equal(api.log.length, 1);
    } finally {
      loop.stop();
      clock.restore();
      await api.close();
    }
  });
});
