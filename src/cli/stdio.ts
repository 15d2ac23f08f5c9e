import type {
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
import type { Drain } from './drain.js';

type RequestId = string | number;

function requestIdOf(message: JSONRPCMessage): RequestId | undefined {
  const m = message as { method?: unknown; id?: unknown };
  return typeof m.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number')
    ? m.id
    : undefined;
}

function responseIdOf(message: JSONRPCMessage): RequestId | undefined {
  const m = message as { method?: unknown; id?: unknown; result?: unknown; error?: unknown };
  if (m.method !== undefined || (m.result === undefined && m.error === undefined)) return undefined;
  return typeof m.id === 'string' || typeof m.id === 'number' ? m.id : undefined;
}

/**
 * The stdio wire with shutdown accounting. Every request the client sends counts as in flight until the
 * server answers it (or the client cancels it). Once draining, new requests are answered at once with an
 * error instead of being served; notifications (cancellations included) and answers to the server's own
 * requests (dialogs) still pass, so calls in flight can finish.
 */
export class DrainingTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  readonly #pending = new Map<RequestId, () => void>();

  constructor(
    private readonly inner: Transport,
    private readonly drain: Drain,
  ) {}

  setProtocolVersion = (version: string): void => {
    this.inner.setProtocolVersion?.(version);
  };

  async start(): Promise<void> {
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onmessage = (message, extra) => this.#receive(message, extra);
    await this.inner.start();
  }

  #receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const id = requestIdOf(message);
    if (id !== undefined) {
      if (this.drain.draining) {
        void this.inner
          .send({
            jsonrpc: '2.0',
            id,
            error: {
              code: -32000,
              message: 'This server is shutting down and accepts no new requests. Start a new session.',
            },
          })
          .catch((error: unknown) =>
            this.onerror?.(error instanceof Error ? error : new Error(String(error))),
          );
        return;
      }
      this.#settle(id);
      this.#pending.set(id, this.drain.enter());
    } else {
      const m = message as { method?: unknown; params?: { requestId?: unknown } };
      const cancelled = m.params?.requestId;
      if (
        m.method === 'notifications/cancelled' &&
        (typeof cancelled === 'string' || typeof cancelled === 'number')
      )
        this.#settle(cancelled);
    }
    this.onmessage?.(message, extra);
  }

  #settle(id: RequestId): void {
    this.#pending.get(id)?.();
    this.#pending.delete(id);
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    try {
      await this.inner.send(message, options);
    } finally {
      const id = responseIdOf(message);
      if (id !== undefined) this.#settle(id);
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.#pending.keys()]) this.#settle(id);
    await this.inner.close();
  }
}
