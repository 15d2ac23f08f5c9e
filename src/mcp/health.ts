import {
  AuthenticationError,
  ConnectionError,
  type DivioClient,
  type DivioError,
  TimeoutError,
} from '../client/index.js';
import type { Logger } from './log.js';

/**
 * Says on the log, once per process rather than once per call, that the API refused the token or cannot be
 * reached, with the fix. A later successful request re-arms it, so a token that is revoked again, or a network
 * that fails again, is reported again.
 */
export function watchApiHealth(client: DivioClient, log: Logger): () => void {
  let said: 'token' | 'network' | null = null;
  return client.observe((error: DivioError | undefined) => {
    if (!error) {
      said = null;
      return;
    }
    if (error instanceof AuthenticationError && said !== 'token') {
      said = 'token';
      log.error(
        `The Divio API refused the token (${error.status}): it is wrong, expired or revoked, so every tool will fail. Create a token at ${error.tokenPage} and set DIVIO_API_TOKEN in the MCP server configuration (or run divio login), then restart the server.`,
        { event: 'token_refused', status: error.status, token_page: error.tokenPage },
      );
    } else if ((error instanceof ConnectionError || error instanceof TimeoutError) && said !== 'network') {
      said = 'network';
      log.error(
        `${error.message} Cannot reach the Divio API at ${client.baseUrl}: check the network path (HTTP_PROXY/HTTPS_PROXY/NO_PROXY, firewall) or DIVIO_API_URL.`,
        { event: 'api_unreachable', api: client.baseUrl },
      );
    }
  });
}
