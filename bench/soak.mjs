#!/usr/bin/env node
// Soak (not a test): sequential echo calls through `mcp-keyproxy run` for 30 s (BENCH_SOAK_SECONDS) against
// server-everything with 10 secrets in the keychain. Prints the calls, the errors (a call that threw, an error
// result, or an answer that is not the echo of its own message) and the proxy's memory: RSS after warm-up and at
// the end, and its peak (VmHWM), from /proc/<pid>/status. Run with `npm run bench:soak` (inside a private keyring).
import { clearSecrets, echo, everything, fmt, proxyTarget, sdkClient, serversWithSecrets, statusMb, warmUp } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 30);
const SECRETS = 10;

const serverName = `soak-${process.pid}`;
const { configPath } = serversWithSecrets({ [serverName]: [everything, 'stdio'] }, SECRETS);

const { connect, stdioTransport } = await sdkClient();
const transport = stdioTransport(proxyTarget(configPath, serverName));
const { client } = await connect(transport);
const pid = transport.pid;
let calls = 0;
let errors = 0;
let firstError = '';
let sampledPeak = 0;
let idle = NaN;
let last = NaN;
try {
  await warmUp(client, 50);
  idle = statusMb(pid, 'VmRSS');
  // VmHWM is the kernel's own peak; the samples only show the peak was not a moment between two of them.
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, statusMb(pid, 'VmRSS'))), 250);
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const message = `hello ${calls}`;
    try {
      const result = await echo(client, calls);
      const text = result.content?.[0]?.text ?? '';
      if (result.isError || !text.includes(message)) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
    } catch (error) {
      errors += 1;
      firstError ||= error instanceof Error ? error.message : String(error);
    }
    calls += 1;
  }
  clearInterval(sampler);
  last = statusMb(pid, 'VmRSS');
  const peak = statusMb(pid, 'VmHWM');
  console.log(`soak: ${SECONDS} s of sequential echo calls through mcp-keyproxy (pid ${pid}), ${SECRETS} secrets in the keychain`);
  console.log(`calls ${calls} (${fmt(calls / SECONDS, 0)}/s), errors ${errors}${firstError ? ` (first: ${firstError})` : ''}`);
  console.log(
    `proxy RSS: ${fmt(idle, 1)} MB after warm-up, ${fmt(last, 1)} MB at the end, peak ${fmt(peak, 1)} MB ` +
      `(VmHWM; highest 250 ms sample ${fmt(sampledPeak, 1)} MB)`,
  );
} finally {
  await client.close();
  clearSecrets(serverName);
}
if (errors > 0) process.exitCode = 1;
