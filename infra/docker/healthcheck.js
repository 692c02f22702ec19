// Container health probe. The slim Node image has no curl or wget, so Node itself asks the service.
//   node /app/healthcheck.js [path]   (default /health/live) -> exit 0 on a 2xx answer, 1 otherwise
// The image probes liveness; docker-compose.yml probes /health/ready, so that "healthy" there means
// the service can take traffic. The port is PORT, else the service's default (SERVICE, set in the image).
const DEFAULT_PORTS = { 'api-gateway': 3000, scheduling: 3001, payment: 3002, notification: 3003, reminder: 3004 };
const path = process.argv[2] || '/health/live';
const port = process.env.PORT || DEFAULT_PORTS[process.env.SERVICE] || 3000;

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) })
  .then((response) => process.exit(response.ok ? 0 : 1))
  .catch(() => process.exit(1));
