import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';

const TWILIO_API_HOST = /^api(\.[a-z0-9-]+)*\.twilio\.com$/;

/**
 * The twilio SDK builds every URL on `https://api.twilio.com` (`Domain.baseUrl`, then edge/region
 * rewriting of the host). Its supported hook for changing requests is the `httpClient` option —
 * Twilio's own custom-client example says "here you can change the URL, headers and other request
 * parameters" — so this client moves requests for the Twilio REST host onto `baseUrl` (a local
 * endpoint speaking the Messages API in tests and development) and leaves everything else
 * (auth, form encoding, error mapping) to the SDK's own RequestClient.
 */
export class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(baseUrl: string, options: RequestClient.RequestClientOptions) {
    super(options);
    this.base = new URL(baseUrl);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, uri: rebase(opts.uri, this.base) });
  }
}

export function rebase(uri: string, base: URL): string {
  const target = new URL(uri);
  if (!TWILIO_API_HOST.test(target.hostname)) return uri;
  target.protocol = base.protocol;
  target.host = base.host;
  return target.toString();
}
