import { readinessReport } from './readiness';

describe('readinessReport', () => {
  it('is ok when every check is up', () => {
    expect(readinessReport({ postgres: { status: 'up' }, startup: { status: 'up' } })).toEqual({
      status: 'ok',
      details: { postgres: { status: 'up' }, startup: { status: 'up' } },
    });
  });

  it('stays ready when a check is only degraded, and says which and why', () => {
    const report = readinessReport({ postgres: { status: 'up' }, kafka: { status: 'degraded', message: 'broker unreachable' } });
    expect(report.status).toBe('degraded');
    expect(report.error).toBeUndefined();
    expect(report.detail).toBe('degraded: kafka (broker unreachable)');
  });

  it('names every failing check, with its reason, when any is down', () => {
    const report = readinessReport({
      postgres: { status: 'down', message: 'no session' },
      kafka: { status: 'degraded', message: 'broker unreachable' },
      shutdown: { status: 'down', message: 'shutting down' },
      startup: { status: 'up' },
    });
    expect(report.status).toBe('error');
    expect(Object.keys(report.error ?? {})).toEqual(['postgres', 'shutdown']);
    expect(report.detail).toBe('not ready: postgres (no session); shutdown (shutting down). degraded: kafka (broker unreachable)');
  });
});
