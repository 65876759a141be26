// keyproxy-dialog for macOS: JXA run as `osascript -l JavaScript keyproxy-dialog.js < template.json`.
// Same protocol as the Linux dialog (see ../README.md): JSON template on stdin, JSON result on stdout,
// exit 0 submit, 1 cancel, 2 error. The template is data read from stdin, never pasted into script source;
// every text is set with stringValue / labelWithString, which show it literally.
// NOT YET VERIFIED BY A TEST RUN (no macOS machine in CI).
ObjC.import('AppKit');
ObjC.import('stdlib');

const MAX_TEMPLATE_BYTES = 64 * 1024;
const TYPES = ['text', 'password', 'url', 'email'];
const URL_RE = /^https?:\/\/[^\s/?#@]+[^\s]*$/i;
const EMAIL_RE = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;
const WIDTH = 380;
// AppKit constants as numbers: not every one of them is exported to JXA.
const FIRST_BUTTON = 1000; // NSAlertFirstButtonReturn
const MODAL_ABORT = -1001; // NSModalResponseAbort
const WORD_WRAPPING = 0; // NSLineBreakByWordWrapping
const FLOATING_LEVEL = 3; // NSFloatingWindowLevel
const ACCESSORY_POLICY = 1; // NSApplicationActivationPolicyAccessory

function write(handle, text) {
  handle.writeData($(text).dataUsingEncoding($.NSUTF8StringEncoding));
}

function fail(message) {
  write($.NSFileHandle.fileHandleWithStandardError, `keyproxy-dialog: ${message}\n`);
  $.exit(2);
}

function readTemplate() {
  const data = $.NSFileHandle.fileHandleWithStandardInput.readDataToEndOfFile;
  if (data.length > MAX_TEMPLATE_BYTES) fail('template is larger than 64 KB');
  const text = $.NSString.alloc.initWithDataEncoding(data, $.NSUTF8StringEncoding);
  if (text.isNil()) fail('bad template: not UTF-8');
  let t;
  try {
    t = JSON.parse(text.js);
  } catch (error) {
    fail(`bad template: ${error.message}`);
  }
  const isString = (v) => typeof v === 'string';
  const optional = (v, check) => v === undefined || v === null || check(v);
  if (t === null || typeof t !== 'object' || Array.isArray(t)) fail('bad template: expected a JSON object');
  if (!isString(t.title)) fail('bad template: "title" is missing');
  if (!isString(t.verification_code)) fail('bad template: "verification_code" is missing');
  if (!optional(t.description, isString)) fail('bad template: "description" has the wrong type');
  if (!optional(t.mode, (m) => m === 'form' || m === 'confirm')) fail('bad template: mode must be "form" or "confirm"');
  if (!optional(t.timeout_s, (s) => typeof s === 'number' && s > 0 && s <= 86400)) fail('bad template: timeout_s out of range');
  const fields = t.fields ?? [];
  if (!Array.isArray(fields)) fail('bad template: "fields" has the wrong type');
  if (t.mode === 'confirm' && fields.length > 0) fail('bad template: confirm mode takes no fields');
  if (t.mode !== 'confirm' && (fields.length === 0 || fields.length > 32)) fail('bad template: "fields" must be a non-empty array');
  const names = new Set();
  for (const f of fields) {
    if (f === null || typeof f !== 'object' || !isString(f.name) || f.name === '') fail('bad template: every field needs a name');
    if (names.has(f.name)) fail('bad template: two fields share a name');
    names.add(f.name);
    if (!optional(f.field_type, (v) => TYPES.includes(v))) fail('bad template: field_type must be text, password, url or email');
    if (!optional(f.required, (v) => typeof v === 'boolean')) fail('bad template: "required" has the wrong type');
    for (const key of ['label', 'default', 'help_text']) {
      if (!optional(f[key], isString)) fail(`bad template: "${key}" has the wrong type`);
    }
  }
  return { ...t, fields };
}

function label(text, font) {
  const l = $.NSTextField.labelWithString(text);
  l.lineBreakMode = WORD_WRAPPING;
  l.preferredMaxLayoutWidth = WIDTH;
  if (font) l.font = font;
  return l;
}

// Stacks views top to bottom in one accessory view.
function stack(views) {
  const heights = views.map((v) => (v.isEditable ? 24 : Math.ceil(v.fittingSize.height)));
  const total = heights.reduce((a, b) => a + b + 6, 0);
  const box = $.NSView.alloc.initWithFrame($.NSMakeRect(0, 0, WIDTH, total));
  let y = total;
  views.forEach((v, i) => {
    y -= heights[i] + 6;
    v.frame = $.NSMakeRect(0, y, WIDTH, heights[i]);
    box.addSubview(v);
  });
  return box;
}

function problemWith(f, value) {
  if (f.required && value === '') return `${f.label || f.name} is required`;
  if (value !== '' && f.field_type === 'url' && !URL_RE.test(value)) return 'Enter an http:// or https:// URL';
  if (value !== '' && f.field_type === 'email' && !EMAIL_RE.test(value)) return 'Enter an email address';
  return null;
}

function run() {
  const t = readTemplate();
  const app = $.NSApplication.sharedApplication;
  app.setActivationPolicy(ACCESSORY_POLICY);
  const alert = $.NSAlert.alloc.init;
  alert.messageText = t.title;
  alert.informativeText = t.description ?? '';
  const views = [
    label(t.verification_code, $.NSFont.fontWithNameSize('Menlo-Bold', 28)),
    label('Check that this code matches the one shown in your AI app.'),
  ];
  const inputs = t.fields.map((f) => {
    const input = f.field_type === 'password' ? $.NSSecureTextField.alloc.init : $.NSTextField.alloc.init;
    if (f.field_type !== 'password' && typeof f.default === 'string') input.stringValue = f.default;
    input.setAccessibilityLabel(f.label || f.name);
    views.push(label(`${f.label || f.name}${f.required ? ' *' : ''}`), input);
    if (f.help_text) views.push(label(f.help_text, $.NSFont.systemFontOfSize(11)));
    return input;
  });
  const error = label('', $.NSFont.boldSystemFontOfSize(11));
  error.textColor = $.NSColor.systemRedColor;
  if (t.mode !== 'confirm') views.push(error);
  // Deny is the first (default) button in confirm mode, so Return denies; Cancel gets Escape from NSAlert.
  const buttons = t.mode === 'confirm' ? ['Deny', 'Allow always', 'Allow for session', 'Allow once'] : ['OK', 'Cancel'];
  buttons.forEach((title) => alert.addButtonWithTitle(title));
  alert.accessoryView = stack(views);
  alert.window.level = FLOATING_LEVEL;
  if (inputs.length > 0) alert.window.initialFirstResponder = inputs[0];
  app.activateIgnoringOtherApps(true);
  if (t.timeout_s) {
    // Common modes include the modal panel mode that runModal spins in.
    app.performSelectorWithObjectAfterDelayInModes('abortModal', null, t.timeout_s, $(['kCFRunLoopCommonModes']));
  }

  for (;;) {
    const response = alert.runModal;
    if (response === MODAL_ABORT) fail(`timed out after ${t.timeout_s} s without an answer`);
    const index = response - FIRST_BUTTON;
    if (t.mode === 'confirm') {
      const decision = ['deny', 'always', 'session', 'once'][index];
      if (!decision) $.exit(1);
      write($.NSFileHandle.fileHandleWithStandardOutput, JSON.stringify({ decision }) + '\n');
      $.exit(0);
    }
    if (index !== 0) $.exit(1);
    const values = inputs.map((input) => input.stringValue.js);
    const problem = t.fields.map((f, i) => problemWith(f, values[i])).find((p) => p !== null);
    if (!problem) {
      const result = Object.fromEntries(t.fields.map((f, i) => [f.name, values[i]]));
      write($.NSFileHandle.fileHandleWithStandardOutput, JSON.stringify(result) + '\n');
      inputs.forEach((input) => (input.stringValue = ''));
      $.exit(0);
    }
    // NSAlert cannot disable its OK button, so show the problem and ask again with the values kept.
    error.stringValue = problem;
  }
}
