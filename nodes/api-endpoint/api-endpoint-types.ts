/** What an api-endpoint config node offers the pollers that use it. */
import type http from 'node:http';
import type { TokenBucket } from '../core/token-bucket';
import type { Node } from '../shared/node-red-types';

export interface PreparedRequest {
  url: string; // with the key: only for the request itself
  safeUrl: string; // for msgs, status, logs, errors
  headers: Record<string, string>;
}

export interface ApiEndpoint extends Node {
  bucket: TokenBucket;
  timeoutMs: number;
  maxBytes: number;
  /** Why requests cannot be made (missing key or setting), or undefined when they can. */
  problem(): string | undefined;
  prepare(path: string): PreparedRequest;
  redact(text: string): string;
  agentFor(url: string): http.Agent;
}
