/**
 * AppReadiness (app/readiness.ts) against a real express router and a real TCP listener:
 * ready only after `flows:started`, once every http-in route is routed and every embedded
 * broker accepts connections; not ready again while a redeploy restarts the flows.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import express from 'express';
import { AppReadiness, missingRoutes, type FlowConfigNode, type RouterHost } from '../../app/readiness';
import { freePort } from '../../app/free-port';
import { describeTab } from '../../app/tab-report';

const flows = (brokerPort: string): FlowConfigNode[] => [
  { id: 't', type: 'tab', label: 'T' },
  { id: 'in', type: 'http in', z: 't', url: 'api/x', method: 'post' },
  { id: 'b', type: 'aedes-broker', z: 't', port: brokerPort, bind: '127.0.0.1' },
];

describe('app readiness', () => {
  let listener: Server | undefined;
  afterEach(() => listener?.close());

  it('names the http-in routes not yet in the router (method and path must both match)', () => {
    const router = express();
    router.get('/api/x', (_req, res) => res.end());
    assert.deepEqual(missingRoutes(flows('1'), router as unknown as RouterHost), ['POST /api/x']);
    router.post('/api/x', (_req, res) => res.end());
    assert.deepEqual(missingRoutes(flows('1'), router as unknown as RouterHost), []);
  });

  it('is ready only after flows:started and once the broker port accepts connections', async () => {
    const port = await freePort();
    const router = express();
    router.post('/api/x', (_req, res) => res.end());
    const readiness = new AppReadiness(router as unknown as RouterHost, { MQTT_PORT: String(port) });
    assert.equal(readiness.current.ready, false);
    const ready = once(readiness, 'ready');
    const started = readiness.flowsStarted(flows('${MQTT_PORT}'));
    assert.deepEqual(readiness.current, { ready: false, waiting: [`MQTT broker on port ${port}`] });
    listener = createServer((s) => s.destroy()).listen(port, '127.0.0.1');
    await started;
    const [{ problems }] = (await ready) as [{ problems: string[] }];
    assert.deepEqual(problems, []);
    assert.deepEqual(readiness.current, { ready: true, waiting: [] });
    readiness.flowsStopping();
    assert.equal(readiness.current.ready, false, 'not ready during a redeploy');
  });

  it('describes a tab from its nodes and settings, or says which API key is missing', () => {
    const weather: FlowConfigNode[] = [
      { id: 'w', type: 'tab', label: 'Weather' },
      { id: 'e', type: 'api-endpoint', baseUrl: '${OWM}', keyRequired: true, keyEnv: 'OWM_KEY' },
      { id: 'p', type: 'api-poller', z: 'w', endpoint: 'e', intervalSeconds: 60 },
      { id: 'c', type: 'csv-source', z: 'w', path: '${DATA}/w/*.csv' },
    ];
    assert.equal(describeTab('w', weather, { OWM: 'http://x' }), 'no OWM_KEY, not polling');
    assert.equal(
      describeTab('w', weather, { OWM: 'http://x', OWM_KEY: 'k', DATA: '/d' }),
      'reading /d/w/*.csv; polling http://x every 60 s',
    );
  });
});
