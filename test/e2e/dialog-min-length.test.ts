// The Linux native dialog's `min_length`: a value too short to scrub is refused inline, OK stays disabled.
// Run under scripts/with-display.sh (see native-dialog.test.ts for the driver).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtspiDriver, buildDialog, requireDisplay, startDialog, type DialogRun, type WindowDump } from '../helpers/display.js';

let driver: AtspiDriver;
const running: DialogRun[] = [];

beforeAll(async () => {
  requireDisplay();
  await buildDialog();
  driver = await AtspiDriver.start();
});

afterAll(() => {
  for (const dialog of running) dialog.process.kill();
  driver?.close();
});

/** A dump once every error label that has text is laid out (as `laidOut` in native-dialog.test.ts). */
async function settled(dialog: DialogRun, want: (dump: WindowDump) => boolean): Promise<WindowDump> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const dump = await driver.dump(dialog);
    if ((dump.labels.every((l) => l.showing || !l.text) && want(dump)) || Date.now() > deadline) return dump;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('native dialog: min_length', () => {
  it('says "Enter at least 8 characters" under a shorter value and keeps OK off until it is long enough', async () => {
    const template = {
      title: 'Key for github',
      verification_code: 'KX7P-M4QZ',
      timeout_s: 20,
      fields: [
        { name: 'TOKEN', label: 'API token', field_type: 'password', required: true, min_length: 8 },
        { name: 'NOTE', label: 'Note', min_length: 8 },
      ],
    };
    const dialog = startDialog(template);
    running.push(dialog);
    const ok = (dump: WindowDump) => dump.buttons.find((b) => b.name === 'OK')?.sensitive;
    const errors = (dump: WindowDump) => dump.labels.filter((l) => l.showing && l.text === 'Enter at least 8 characters').length;

    await driver.run(dialog, [{ op: 'set', name: 'API token', text: 'short7x' }]);
    let dump = await settled(dialog, (d) => errors(d) === 1);
    expect({ ok: ok(dump), errors: errors(dump) }).toEqual({ ok: false, errors: 1 });
    await driver.run(dialog, [
      { op: 'key', keys: ['Return'] },
      { op: 'sleep', ms: 300 },
    ]);
    expect(dialog.process.exitCode).toBeNull();

    await driver.run(dialog, [{ op: 'set', name: 'API token', text: 'long-enough' }]);
    dump = await settled(dialog, (d) => errors(d) === 0);
    // An empty optional field is fine whatever its min_length.
    expect({ ok: ok(dump), errors: errors(dump) }).toEqual({ ok: true, errors: 0 });
    await driver.run(dialog, [{ op: 'press', name: 'OK' }]);
    const result = await dialog.process;
    expect([result.exitCode, JSON.parse(result.stdout)]).toEqual([0, { TOKEN: 'long-enough', NOTE: '' }]);
  });
});
