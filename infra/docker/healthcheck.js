// Container health probe. The slim Node image has no curl or wget, so Node itself asks the service.
//   node /app/healthcheck.js [path]   (default /health/live) -> exit 0 on a 2xx answer, 1 otherwise
// The Dockerfiles probe liveness; docker-compose.yml probes /health/ready so that "healthy" there
// means Postgres and Kafka answer and start-up (migrations, topics, relay) has finished.
const path = process.argv[2] || '/health/live';
const port = process.env.PORT || '3000';

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) })
  .then((response) => process.exit(response.ok ? 0 : 1))
  .catch(() => process.exit(1));
