/**
 * The soak's floor (bench/soak.bench.ts): an aedes broker alone, in its own process, with
 * no Node-RED and no ingest, publishing a burst of result-sized messages itself when told.
 * Sends `{port}` over IPC when it listens; each IPC message `{count, payload}` publishes
 * `count` messages to soak/out/k<i> (one loop, as the aedes-broker node does for a batch).
 */
import { createServer } from 'node:net';

async function main(): Promise<void> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  process.on('message', (m: { count: number; payload: string }) => {
    const payload = Buffer.from(m.payload);
    for (let i = 0; i < m.count; i++)
      broker.publish(
        { cmd: 'publish', topic: `soak/out/k${i}`, payload, qos: 0, retain: false, dup: false },
        () => {},
      );
  });
  process.on('disconnect', () => {
    server.close();
    broker.close();
  });
}

void main();
