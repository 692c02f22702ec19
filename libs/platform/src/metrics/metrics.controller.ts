import { Controller, Get, Header } from '@nestjs/common';
import { metricsRegistry } from './registry';

/**
 * `GET /metrics`: the process's metrics in Prometheus's text format, on the service's own port and
 * never under the gateway's `/v1`. Readings that need Postgres or Kafka are bounded (see
 * platform-metrics.ts), so a scrape answers even when those do not.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', metricsRegistry.contentType)
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
