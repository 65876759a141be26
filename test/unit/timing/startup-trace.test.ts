import { afterEach, describe, expect, it, vi } from 'vitest';

/** A fresh copy of the module (it reads MCP_KEYPROXY_TRACE_STARTUP once, when loaded) and what it writes to stderr. */
async function load(flag: string | undefined) {
  vi.resetModules();
  if (flag === undefined) vi.stubEnv('MCP_KEYPROXY_TRACE_STARTUP', undefined as unknown as string);
  else vi.stubEnv('MCP_KEYPROXY_TRACE_STARTUP', flag);
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return { trace: await import('../../../src/timing/startup-trace.js'), written };
}

describe('the start-up trace', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('records and prints nothing unless MCP_KEYPROXY_TRACE_STARTUP=1', async () => {
    for (const flag of [undefined, '0', 'true']) {
      const { trace, written } = await load(flag);
      trace.markStartup('configStart');
      trace.startupFinished();
      expect(trace.tracingStartup).toBe(false);
      expect(written).toEqual([]);
    }
  });

  it('prints one JSON line at the first byte out: each stage once, at its first moment, in order', async () => {
    const { trace, written } = await load('1');
    trace.markStartup('binStart', 12.5);
    trace.markStartup('configStart');
    trace.markStartup('configRead');
    const first = performance.now();
    trace.markStartup('configRead');
    trace.startupFinished();
    trace.startupFinished();
    expect(written).toHaveLength(1);
    expect(written[0]!.endsWith('\n')).toBe(true);
    const { startupTrace } = JSON.parse(written[0]!) as { startupTrace: Record<string, number> };
    expect(startupTrace.binStart).toBe(12.5);
    expect(startupTrace.configRead).toBeLessThanOrEqual(first);
    expect(startupTrace.configStart).toBeLessThanOrEqual(startupTrace.configRead!);
    expect(startupTrace.configRead).toBeLessThanOrEqual(startupTrace.firstByteOut!);
    expect(startupTrace.nodeBootstrapComplete).toBeGreaterThan(0);
  });
});
