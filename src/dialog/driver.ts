import { KeyproxyError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { DisplayLookup, DisplaySearch } from './display.js';
import { linuxDialogs, type LinuxDialogs } from './linux.js';
import { macosDialog } from './macos.js';
import { runDialogProgram, type ProgramOutcome, type ProgramSpec, type PromptOptions } from './program.js';
import { isConfirmTemplate, type DialogOutcome, type DialogTemplate } from './template.js';
import { windowsDialog } from './windows.js';
import { promptZenity } from './zenity.js';
import { secretsSetCommand } from '../secrets/hints.js';

export type { PromptOptions } from './program.js';

/** Which program shows the dialogs; `none` when no dialog can be shown. */
export type DialogDriverName = 'gtk' | 'zenity' | 'osascript' | 'powershell' | 'none';

/**
 * Shows native dialogs, one process per request. `prompt` resolves with the outcome (abort included, as
 * `cancelled`) and rejects only with a `DIALOG_UNAVAILABLE` KeyproxyError when no dialog can be shown at all.
 */
export interface DialogDriver {
  /** The program in use; `zenity` after the GTK dialog turned out unusable. */
  readonly name: DialogDriverName;
  /** Why no dialog can be shown, or undefined when one can (the result of `prompt` may still say otherwise). */
  readonly unavailable: string | undefined;
  /** Shows the template and waits for the user, the dialog's own timeout, or `options.signal`. */
  prompt(template: DialogTemplate, options?: PromptOptions): Promise<DialogOutcome>;
}

/** Inputs of {@link createDialogDriver}; each defaults to this process's. */
export interface DialogDriverOptions {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  /** The folder holding `native-dialog/` (the npm package root). */
  packageRoot?: string;
  /** Where to look for the user's display when the environment names none (tests hand in a folder). */
  display?: DisplaySearch;
}

/** The error for a request no dialog can show; it says how to enter the secrets (or consent) without one. */
export function dialogUnavailableError(
  reason: string,
  template: DialogTemplate,
  server = '<server>',
  profile: string | undefined = undefined,
): KeyproxyError {
  if (isConfirmTemplate(template)) {
    return new KeyproxyError(
      'DIALOG_UNAVAILABLE',
      `Cannot ask for consent to use the secrets of "${server}": ${reason}. Use an AI app that supports ` +
        `elicitation, or turn the question off with "confirm": false on the server, MCP_BYPASS_SECRET_USE_CONFIRM=true ` +
        `or --headless.`,
    );
  }
  const commands = template.fields.map((f) => secretsSetCommand(server, f.name, profile));
  return new KeyproxyError(
    'DIALOG_UNAVAILABLE',
    `Cannot show the credentials dialog for "${server}": ${reason}. Store the secrets from a terminal instead: ` +
      `${commands.join(' ; ')}`,
  );
}

function outcome(result: ProgramOutcome, template: DialogTemplate, options: PromptOptions): DialogOutcome {
  if (result.kind === 'unusable') throw dialogUnavailableError(result.message, template, options.server, options.profile);
  return result;
}

function unavailableDriver(reason: string): DialogDriver {
  return {
    name: 'none',
    unavailable: reason,
    prompt: (template, options = {}) => Promise.reject(dialogUnavailableError(reason, template, options.server, options.profile)),
  };
}

function programDriver(name: DialogDriverName, spec: ProgramSpec): DialogDriver {
  return {
    name,
    unavailable: undefined,
    prompt: async (template, options = {}) => outcome(await runDialogProgram(spec, template, options), template, options),
  };
}

/** The GTK dialog, falling back to zenity when the binary cannot run here (other CPU, GTK libraries missing). */
class LinuxDriver implements DialogDriver {
  readonly unavailable = undefined;
  private gtk: ProgramSpec | undefined;

  constructor(private readonly found: LinuxDialogs) {
    this.gtk = found.gtk;
  }

  get name(): DialogDriverName {
    return this.gtk ? 'gtk' : 'zenity';
  }

  async prompt(template: DialogTemplate, options: PromptOptions = {}): Promise<DialogOutcome> {
    if (this.gtk) {
      const result = await runDialogProgram(this.gtk, template, options);
      if (result.kind !== 'unusable' || !this.found.zenity) return outcome(result, template, options);
      this.gtk = undefined;
    }
    if (!this.found.zenity) throw dialogUnavailableError('no dialog program is left', template, options.server, options.profile);
    return outcome(await promptZenity(this.found.zenity.file, this.found.zenity.env, template, options), template, options);
  }
}

type Choice =
  | { kind: 'linux'; found: LinuxDialogs }
  | { kind: 'program'; name: DialogDriverName; spec: ProgramSpec }
  | { kind: 'none'; unavailable: string };

/** The one place that decides which program shows the dialogs on this platform. */
function choose(options: DialogDriverOptions): Choice {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const root = options.packageRoot ?? packageRoot;
  if (platform === 'darwin' || platform === 'win32') {
    const spec = platform === 'darwin' ? macosDialog(env, root) : windowsDialog(env, root);
    if ('unavailable' in spec) return { kind: 'none', unavailable: spec.unavailable };
    return { kind: 'program', name: platform === 'darwin' ? 'osascript' : 'powershell', spec };
  }
  return { kind: 'linux', found: linuxDialogs(env, root, options.display) };
}

/** Picks the dialog program for the platform once; never throws (see {@link DialogDriver.unavailable}). */
export function createDialogDriver(options: DialogDriverOptions = {}): DialogDriver {
  const choice = choose(options);
  if (choice.kind === 'none') return unavailableDriver(choice.unavailable);
  if (choice.kind === 'program') return programDriver(choice.name, choice.spec);
  const { found } = choice;
  return found.unavailable !== undefined ? unavailableDriver(found.unavailable) : new LinuxDriver(found);
}

/** Which dialog would be shown and why, for `doctor`; names and paths only. */
export interface DialogReport {
  driver: DialogDriverName;
  /** The program run for each dialog. */
  program?: string;
  /** Why no dialog can be shown. */
  unavailable?: string;
  /** Why the GTK dialog is not the one used (Linux). */
  gtkSkipped?: string;
  /** The display the dialogs open on (Linux). */
  display?: DisplayLookup;
}

/** Reports the choice {@link createDialogDriver} makes, without showing anything. */
export function dialogReport(options: DialogDriverOptions = {}): DialogReport {
  const choice = choose(options);
  if (choice.kind === 'none') return { driver: 'none', unavailable: choice.unavailable };
  if (choice.kind === 'program') return { driver: choice.name, program: choice.spec.file };
  const { display, gtkSkipped, unavailable, gtk, zenity } = choice.found;
  if (unavailable !== undefined) return { driver: 'none', unavailable, gtkSkipped, display };
  return { driver: gtk ? 'gtk' : 'zenity', program: (gtk ?? zenity)?.file, gtkSkipped, display };
}
