#!/usr/bin/python3
"""Drives native dialogs through AT-SPI (and real key presses through xdotool), for the e2e tests.

Runs until stdin closes. Prints {"ready": true} once AT-SPI is reachable, then answers each request line
  {"pid": PID, "steps": [...]}        (typed values travel on stdin, never on argv)
with one line {"ok": true, "visible_at_ms": epoch ms the window was first seen, "results": [one per step]}
or {"ok": false, "error": "..."}. A request {"windows": true} answers at once with every window showing on the
display, of any process: {"ok": true, "windows": [{"pid": PID, "title": T}, ...]} (tests count dialogs with it). Each request first waits until the process's window is showing. Steps:
  {"op": "dump"}                          the window: title, labels, entries, buttons and their states
  {"op": "set", "name": N, "text": T}     set the text of the entry whose accessible name is N
  {"op": "press", "name": N}              the AT-SPI action of the button named N (a click)
  {"op": "focus", "name": N}              give the keyboard focus to the widget named N
  {"op": "key", "keys": ["Escape"]}       real key presses (XTest) into the dialog window
  {"op": "type", "text": T}               real typing (XTest) into the focused widget
  {"op": "sleep", "ms": M}
"""
import json
import subprocess
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402

WAIT_S = 10
ENTRY_ROLES = (Atspi.Role.TEXT, Atspi.Role.PASSWORD_TEXT, Atspi.Role.ENTRY)


class DriverError(Exception):
    pass


def walk(node):
    yield node
    for i in range(node.get_child_count()):
        child = node.get_child_at_index(i)
        if child is not None:
            yield from walk(child)


def has_state(node, state):
    return node.get_state_set().contains(state)


def find_window(pid):
    """The showing frame of the application with this process id, once its buttons are showing too."""
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        try:
            if app is None or app.get_process_id() != pid:
                continue
        except GLib.Error:
            # An earlier dialog that has just exited can still be listed; asking it anything fails.
            continue
        app.clear_cache()
        for j in range(app.get_child_count()):
            frame = app.get_child_at_index(j)
            buttons = [n for n in walk(frame) if n.get_role() == Atspi.Role.PUSH_BUTTON]
            if has_state(frame, Atspi.StateType.SHOWING) and buttons and all(
                has_state(b, Atspi.StateType.SHOWING) for b in buttons
            ):
                return frame
    return None


def wait_for_window(pid):
    deadline = time.time() + WAIT_S
    while True:
        frame = find_window(pid)
        if frame is not None:
            return frame
        if time.time() > deadline:
            raise DriverError(f"no window from process {pid} within {WAIT_S} s")
        time.sleep(0.005)


def text_of(node):
    if "Text" not in node.get_interfaces():
        return None
    return Atspi.Text.get_text(node, 0, Atspi.Text.get_character_count(node))


def find(frame, name, roles):
    for node in walk(frame):
        if node.get_role() in roles and node.get_name() == name:
            return node
    raise DriverError(f"no widget named {name!r}")


def dump(frame):
    frame.clear_cache()
    out = {"title": frame.get_name(), "labels": [], "entries": [], "buttons": []}
    for node in walk(frame):
        role = node.get_role()
        if role == Atspi.Role.LABEL:
            showing = has_state(node, Atspi.StateType.SHOWING)
            out["labels"].append({"name": node.get_name(), "text": text_of(node), "showing": showing})
        elif role in ENTRY_ROLES:
            out["entries"].append({
                "name": node.get_name(), "text": text_of(node),
                "password": role == Atspi.Role.PASSWORD_TEXT,
                "focused": has_state(node, Atspi.StateType.FOCUSED),
            })
        elif role == Atspi.Role.PUSH_BUTTON:
            out["buttons"].append({"name": node.get_name(), "sensitive": has_state(node, Atspi.StateType.SENSITIVE)})
    return out


def xdotool(pid, args, stdin=None):
    # No window manager runs under Xvfb, so focus the window directly (windowactivate needs a WM).
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(pid)], capture_output=True, text=True)
    windows = found.stdout.split()
    if not windows:
        raise DriverError("xdotool cannot see the dialog window")
    subprocess.run(["xdotool", "windowfocus", "--sync", windows[0], *args], input=stdin, text=True, check=True)


def run_step(pid, frame, step):
    op = step["op"]
    if op == "dump":
        return dump(frame)
    if op == "set":
        return Atspi.EditableText.set_text_contents(find(frame, step["name"], ENTRY_ROLES), step["text"])
    if op == "set-focused":
        # Sets the focused entry's text through AT-SPI: typing a character the keymap lacks (é) with xdotool remaps
        # a spare key for a moment, and on a busy machine the dialog can read the key after the mapping is gone.
        for node in walk(frame):
            if node.get_role() in ENTRY_ROLES and has_state(node, Atspi.StateType.FOCUSED):
                return Atspi.EditableText.set_text_contents(node, step["text"])
        raise DriverError("no focused entry")
    if op == "press":
        button = find(frame, step["name"], (Atspi.Role.PUSH_BUTTON,))
        try:
            return Atspi.Action.do_action(button, 0)
        except GLib.Error as error:
            # A click that ends the dialog can end it before its answer to the click leaves the process.
            if "defunct" in str(error) or "disconnected" in str(error).lower():
                return "exited"
            raise
    if op == "focus":
        return Atspi.Component.grab_focus(find(frame, step["name"], ENTRY_ROLES + (Atspi.Role.PUSH_BUTTON,)))
    if op == "key":
        xdotool(pid, ["key", "--clearmodifiers", *step["keys"]])
        return True
    if op == "type":
        xdotool(pid, ["type", "--file", "-"], stdin=step["text"])
        return True
    if op == "sleep":
        time.sleep(step["ms"] / 1000)
        return True
    raise DriverError(f"unknown op {op!r}")


def showing_windows():
    """Every showing frame on the desktop, with the process id of its application."""
    desktop = Atspi.get_desktop(0)
    found = []
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        try:
            if app is None:
                continue
            pid = app.get_process_id()
            app.clear_cache()
            for j in range(app.get_child_count()):
                frame = app.get_child_at_index(j)
                if frame is not None and has_state(frame, Atspi.StateType.SHOWING):
                    found.append({"pid": pid, "title": frame.get_name() or ""})
        except GLib.Error:
            continue  # an application that has just exited
    return found


def handle(request):
    if request.get("windows"):
        return {"ok": True, "windows": showing_windows()}
    pid = request["pid"]
    frame = wait_for_window(pid)
    visible_at_ms = time.time() * 1000
    results = [run_step(pid, frame, step) for step in request["steps"]]
    return {"ok": True, "visible_at_ms": visible_at_ms, "results": results}


def main():
    Atspi.get_desktop(0).get_child_count()  # starts the accessibility bus now, not during the first request
    print(json.dumps({"ready": True}), flush=True)
    for line in iter(sys.stdin.readline, ""):
        try:
            reply = handle(json.loads(line))
        except (DriverError, GLib.Error, subprocess.CalledProcessError, KeyError, ValueError) as error:
            reply = {"ok": False, "error": str(error)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
