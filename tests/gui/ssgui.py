"""Drive the real Smearscope window through AT-SPI and xdotool (issue 26).

Run under tests/gui/run-gui-test.sh, which provides the X server, the session bus, the
accessibility bus and a private HOME, and passes the paths in the environment:
SS_GUI_APP, SS_GUI_CLI, SS_GUI_DATASETS and SS_GUI_TMP (a scratch folder).

Reading goes through the accessibility tree only (names, roles, extents), as a screen
reader would; input goes through the X server (xdotool), as a person's keyboard and
mouse would. Nothing reaches into the process.
"""

import json
import os
import re
import subprocess
import sys
import time
import traceback

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

APP = os.environ.get("SS_GUI_APP", "")
CLI = os.environ.get("SS_GUI_CLI", "")
DATASETS = os.environ.get("SS_GUI_DATASETS", "")
TMP = os.environ.get("SS_GUI_TMP", "/tmp")
SHOTS = os.environ.get("SS_GUI_SHOTS", "")
SKIP = 77
ENVIRONMENT_BROKE = 99     # run-gui-test.sh tries once more with a new X server


class Failure(Exception):
    pass


def log(*args):
    print(f"[{time.monotonic() - _T0:6.2f}s]", *args, flush=True)


_T0 = time.monotonic()


def check(condition, message):
    if not condition:
        raise Failure(message)


def bccd_field(name):
    path = os.path.join(DATASETS, "bccd", "images", name)
    if not os.path.isfile(path):
        print(f"SKIP: {path} is missing", flush=True)
        sys.exit(SKIP)
    return path


# A sanitizer (scripts/test-sanitizers.sh) or valgrind slows the window several times:
# SMEARSCOPE_TEST_TIME_FACTOR (a whole number, as the other tests read it) widens every
# wait here; the default run keeps the times as written.
try:
    TIME_FACTOR = max(1, int(os.environ.get("SMEARSCOPE_TEST_TIME_FACTOR", "1")))
except ValueError:
    TIME_FACTOR = 1


def wait_until(predicate, timeout=20.0, what="the condition", interval=0.05):
    """predicate's value once it is true; Failure after timeout seconds (times
    TIME_FACTOR)."""
    timeout *= TIME_FACTOR
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # a node may go away while the window changes
            last_error = error
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


# --- the accessibility tree ---------------------------------------------------------

def role_name(node):
    try:
        return node.get_role_name()
    except Exception:
        return ""


def name_of(node):
    try:
        return node.get_name() or ""
    except Exception:
        return ""


def children(node):
    try:
        n = node.get_child_count()
    except Exception:
        return
    for i in range(n):
        try:
            child = node.get_child_at_index(i)
        except Exception:
            child = None
        if child is not None:
            yield child


def is_visible(node):
    # GTK 4.8 sets "visible" on a widget that is shown, never "showing"
    try:
        return node.get_state_set().contains(Atspi.StateType.VISIBLE)
    except Exception:
        return False


def walk(node, depth=0, max_depth=60):
    yield node
    if depth < max_depth:
        for child in children(node):
            yield from walk(child, depth + 1, max_depth)


def _matches(value, pattern):
    if pattern is None:
        return True
    if isinstance(pattern, re.Pattern):
        return pattern.search(value) is not None
    return value == pattern


def find_all(root, role=None, name=None, visible=False):
    """Every node under root with this role name ("push button", "label", ...) and
    name (a string for an exact match, or a compiled regular expression)."""
    found = []
    for node in walk(root):
        if role is not None and role_name(node) != role:
            continue
        if not _matches(name_of(node), name):
            continue
        if visible and not is_visible(node):
            continue
        found.append(node)
    return found


def find(root, role=None, name=None, timeout=20.0, visible=False):
    """The first node under root with this role and name, waiting up to timeout s."""
    def look():
        nodes = find_all(root, role, name, visible)
        return nodes[0] if nodes else None
    pattern = name.pattern if isinstance(name, re.Pattern) else name
    return wait_until(look, timeout, f"a {role or 'node'} named {pattern!r}")


def extents(node):
    """(x, y, width, height) in the window's coordinates (GTK 4 cannot give screen
    coordinates; see Window.screen_point)."""
    e = node.get_extents(Atspi.CoordType.WINDOW)
    return e.x, e.y, e.width, e.height


def do_action(node, action_name=None):
    n = node.get_n_actions()
    check(n > 0, f"{role_name(node)} {name_of(node)!r} has no action")
    index = 0
    if action_name is not None:
        names = [node.get_action_name(i) for i in range(n)]
        check(action_name in names, f"{name_of(node)!r} has actions {names}, not {action_name}")
        index = names.index(action_name)
    return node.do_action(index)


# --- the application ----------------------------------------------------------------

class App:
    """One run of the workstation: its process, its accessible application, its
    window, and the keys and mouse strokes sent to it (counted)."""

    def __init__(self, args, env=None, name="app"):
        self.log_path = os.path.join(TMP, f"{name}.log")
        self.log_file = open(self.log_path, "w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        log("starting", " ".join([os.path.basename(APP)] + args))
        self.process = subprocess.Popen([APP] + args, env=full_env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        self.keys = []          # every key press sent, in order
        self.window_id = None
        self.accessible = self._wait_for_accessible()
        self.root = self.accessible   # where find() looks: the main window once known
        # no cache: names change as the review goes on, and nothing here runs the main
        # loop that would keep a cache up to date
        self.accessible.set_cache_mask(Atspi.Cache.NONE)

    def _wait_for_accessible(self, timeout=30.0):
        def look():
            if self.process.poll() is not None:
                if "cannot open display" in self.output():
                    # the X server went away under us: let run-gui-test.sh start another
                    print("the application cannot open the display " +
                          os.environ.get("DISPLAY", "(none)") + ":\n" + self.output() +
                          subprocess.run(["sh", "-c", "ls -la /tmp/.X11-unix; ps -eo pid,args "
                                          "| grep '[X]vfb'"], capture_output=True,
                                         text=True).stdout, flush=True)
                    sys.exit(ENVIRONMENT_BROKE)
                raise Failure(f"the application exited with status {self.process.returncode}:\n"
                              + self.output())
            desktop = Atspi.get_desktop(0)
            for child in children(desktop):
                try:
                    if child.get_process_id() == self.pid:
                        return child
                except Exception:
                    pass
            return None
        accessible = wait_until(look, timeout, "the application on the accessibility bus")
        log(f"accessible application {name_of(accessible)!r} (pid {self.pid})")
        return accessible

    def output(self):
        if not self.log_file.closed:
            self.log_file.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    # reading

    def find(self, role=None, name=None, timeout=20.0, visible=False, root=None):
        return find(root or self.root, role, name, timeout, visible)

    def find_all(self, role=None, name=None, visible=False, root=None):
        return find_all(root or self.root, role, name, visible)

    def main_window(self, title, timeout=30.0):
        """The window titled title; from then on find() looks inside it only.

        GTK 4.8 answers a GetChildAtIndex on the application for a toplevel that is
        being destroyed (a dialog just answered) with a NULL object path: the reply is
        invalid, the accessibility bus drops the application's connection, and the
        whole application vanishes for every assistive technology. Looking inside the
        main window never asks the application for its toplevels."""
        frame = find(self.accessible, "frame", title, timeout)
        self.root = frame
        return frame

    def dialog(self, role="push button", name=None, timeout=20.0):
        """A node in a window other than the main one (a dialog that is open: ask
        only while it is, see main_window)."""
        def look():
            for top in children(self.accessible):
                if top is self.root or name_of(top) == name_of(self.root):
                    continue
                found = find_all(top, role, name)
                if found:
                    return found[0]
            return None
        pattern = name.pattern if isinstance(name, re.Pattern) else name
        return wait_until(look, timeout, f"a dialog's {role} named {pattern!r}")

    # the X window

    def x_window(self, title):
        """The X window of this process titled title (xdotool search)."""
        out = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid",
                              str(self.pid), "--name", "^" + re.escape(title) + "$"],
                             capture_output=True, text=True, timeout=30)
        ids = out.stdout.split()
        check(ids, f"no X window titled {title!r}: {out.stderr}")
        if len(ids) > 1:
            log(f"X windows titled {title!r}: {ids}")
        return ids[0]

    def focus_window(self, title):
        """Give the X window titled title the keyboard focus (there is no window
        manager under Xvfb, so xdotool windowactivate cannot be used)."""
        self.window_title = title
        self.window_id = self.x_window(title)
        subprocess.run(["xdotool", "windowfocus", "--sync", self.window_id], check=True,
                       timeout=30)
        return self.window_id

    def window_origin(self):
        """The screen point of the window's (0, 0) in AT-SPI window coordinates: the X
        window's position plus the border GTK draws around the window's content
        (client-side decorations without a compositor), which the AT-SPI extents
        of the window's frame leave out."""
        return x_window_origin(self.x_window(self.window_title), self.root)

    def screen_point(self, node, fx=0.5, fy=0.5):
        """The screen point at fractions (fx, fy) of node's extents."""
        x, y, w, h = extents(node)
        ox, oy = self.window_origin()
        return ox + x + int(w * fx), oy + y + int(h * fy)

    # input

    def key(self, *keys):
        """Press keys one after the other (xdotool names: "3", "space", "ctrl+z")."""
        for k in keys:
            subprocess.run(["xdotool", "key", "--clearmodifiers", k], check=True, timeout=30)
            self.keys.append(k)

    def drag(self, start, end, steps=8):
        subprocess.run(["xdotool", "mousemove", "--sync", str(start[0]), str(start[1])],
                       check=True, timeout=30)
        subprocess.run(["xdotool", "mousedown", "1"], check=True, timeout=30)
        for i in range(1, steps + 1):
            x = start[0] + (end[0] - start[0]) * i // steps
            y = start[1] + (end[1] - start[1]) * i // steps
            subprocess.run(["xdotool", "mousemove", "--sync", str(x), str(y)], check=True,
                           timeout=30)
            time.sleep(0.02)
        subprocess.run(["xdotool", "mouseup", "1"], check=True, timeout=30)

    # the end

    def quit(self, timeout=15.0 * TIME_FACTOR):
        """Quit as a person does (Ctrl+Q), then wait for the process."""
        if self.process.poll() is None:
            try:
                self.key("ctrl+q")
                self.process.wait(timeout=timeout)
            except Exception:
                pass
        return self.stop()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return self.process.returncode


def run_app(args, env, name, body):
    """Start the application, run body(app), quit it; its exit status must be 0."""
    app = App(args, env, name=name)
    try:
        result = body(app)
    except Exception:
        screenshot(f"failure-{name}")
        app.stop()
        print(f"--- application output ({name}) ---\n" + app.output(), flush=True)
        raise
    status = app.quit()
    check(status == 0, f"{name}: the application exited with status {status}:\n{app.output()}")
    return result


def screenshot(name):
    """Save the whole screen as SS_GUI_SHOTS/name.png when SS_GUI_SHOTS is set."""
    if not SHOTS:
        return None
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name + ".png")
    subprocess.run(["import", "-window", "root", path], check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log("screenshot", path)
    return path


# --- dialogs and the main menu ----------------------------------------------------------

def focus(app, title):
    """Give the window titled title the keyboard, trying again while xdotool meets a
    window being destroyed (BadWindow)."""
    wait_until(lambda: app.focus_window(title), 10, f"the window {title!r} to take the keys")


def dialog_x_window(app, dialog_title):
    """The newest X window titled dialog_title: xdotool also lists the main window under
    a dialog's title (its group leader), first."""
    ids = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid",
                          str(app.pid), "--name", "^" + re.escape(dialog_title) + "$"],
                         capture_output=True, text=True, timeout=30).stdout.split()
    check(ids, f"no X window titled {dialog_title!r}")
    return ids[-1]


def focus_dialog(app, dialog_title):
    """Give the keyboard to the newest X window titled dialog_title."""
    subprocess.run(["xdotool", "windowfocus", "--sync", dialog_x_window(app, dialog_title)],
                   check=True, timeout=30)


def x_window_origin(window_id, frame):
    """The screen point of (0, 0) in AT-SPI window coordinates of the X window window_id,
    whose accessible frame is frame: its position plus the border GTK draws round the
    frame (client-side decorations without a compositor), which its extents leave out."""
    out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window_id],
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, f"xdotool getwindowgeometry {window_id}: {out.stderr}")
    values = dict(line.split("=", 1) for line in out.stdout.split())
    _, _, fw, fh = extents(frame)
    return (int(values["X"]) + max(0, (int(values["WIDTH"]) - fw) // 2),
            int(values["Y"]) + max(0, (int(values["HEIGHT"]) - fh) // 2))


def click_in_dialog(app, dialog_title, node):
    """Click the middle of node, in the newest X window titled dialog_title (for what
    GTK 4.8 gives no accessible action, such as a check box). The point is the X
    window's position, plus the border drawn round the dialog's frame, plus the node's
    extents in the dialog's coordinates (see x_window_origin)."""
    window_id = dialog_x_window(app, dialog_title)
    frames = [top for top in children(app.accessible) if name_of(top) == dialog_title]
    check(frames, f"no accessible window titled {dialog_title!r}: "
          f"{[(role_name(top), name_of(top)) for top in children(app.accessible)]}")
    x, y = x_window_origin(window_id, frames[-1])
    nx, ny, nw, nh = extents(node)
    subprocess.run(["xdotool", "mousemove", "--sync", str(x + nx + nw // 2), str(y + ny + nh // 2),
                    "click", "1"], check=True, timeout=30)


def save_as(app, window, dialog_title, path=None):
    """In the save dialog titled dialog_title: press Return to take the name and folder
    it suggests, or type path over them first. (GTK 4.8 does
    not give the name entry's text to AT-SPI: what the dialog suggested is checked by
    where the file lands.)"""
    app.dialog("text", "Name:", timeout=20)
    if path is not None:
        focus_dialog(app, dialog_title)
        app.key("ctrl+a")
        subprocess.run(["xdotool", "type", "--delay", "5", path], check=True, timeout=60)
        time.sleep(0.3)
    app.key("Return")
    # not waited for through AT-SPI: asking the application for its windows while one
    # is destroyed breaks its accessibility connection (see App.main_window); the
    # toast that follows says the dialog has done its part
    time.sleep(0.5)
    focus(app, window.title)


def menu_items(app, label):
    return [n for n in walk(app.accessible)
            if role_name(n) in ("menu item", "push button", "check menu item")
            and name_of(n).replace("_", "") == label and is_visible(n)]


def open_menu_item(app, window, *path, shot=None):
    """The main menu (F10), then each item of path in turn (a submenu, then its item)."""
    focus(app, window.title)
    app.key("F10")
    for label in path:
        item = wait_until(lambda: menu_items(app, label), 10, f"the menu item {label!r}")[0]
        if label == path[-1] and shot:
            screenshot(shot)
        log(f"menu: {label}")
        do_action(item)


# --- toasts ---------------------------------------------------------------------------

def toast_widgets(app):
    """The toasts on show: AdwToastOverlay puts each (an AdwToastWidget, role "filler",
    named after its type in GTK 4.8) over the window's content, 3 levels under the
    frame; its label holds the message, its one push button dismisses it. Looking no
    deeper than that keeps a poll quick."""
    return [n for n in walk(app.root, max_depth=4)
            if role_name(n) == "filler" and name_of(n) == "AdwToastWidget"]


def label_text(node):
    """A label's text: its accessible name, or, where GTK 4.8 left that empty (the
    first toast of a window, seen under ASan), the text it shows (AT-SPI's Text)."""
    name = name_of(node)
    if name:
        return name
    try:
        return Atspi.Text.get_text(node, 0, -1) or ""
    except Exception:
        return ""


def _toast_labels(node, depth=0):
    """The labels of a toast outside its buttons (a button's label is its name)."""
    for child in children(node):
        role = role_name(child)
        if role == "label" and label_text(child):
            yield child
        elif role != "push button" and depth < 2:
            yield from _toast_labels(child, depth + 1)


def toast_message(toast):
    labels = list(_toast_labels(toast))
    check(labels, "a toast without a label")
    check(all(is_visible(n) for n in labels), f"a toast's label is not visible: "
          f"{[label_text(n) for n in labels]}")
    return " ".join(label_text(n) for n in labels)


class Toasts:
    """Every message the window showed as a toast, in order, with the names of the
    buttons it had. AdwToastOverlay shows one toast at a time, each for 8 s; once read,
    a toast is dismissed (its close button) so that the next one comes at once, or its
    own button is pressed if it has one whose name begins with press."""

    def __init__(self, app):
        self.app = app
        self.seen = []
        self.buttons = {}       # message -> the names of its buttons but the close one
        self.press = None       # a toast's own button to press, if one is named so

    def poll(self):
        for toast in toast_widgets(self.app):
            text = toast_message(toast)
            # the last button closes it; one before it is the toast's own ("Open")
            buttons = [n for n in children(toast) if role_name(n) == "push button"]
            if text not in self.seen:
                self.seen.append(text)
                self.buttons[text] = [name_of(n) for n in buttons[:-1]]
                log(f"toast: {text!r}" + (f" {self.buttons[text]}" if buttons[:-1] else ""))
            own = [n for n in buttons[:-1] if self.press and name_of(n).startswith(self.press)]
            if own:
                log(f"toast: pressing {name_of(own[0])!r}")
                self.press = None
            if buttons:
                do_action(own[0] if own else buttons[-1])

    def wait_for(self, what, predicate, timeout=20.0):
        """The first message predicate accepts, waiting up to timeout s."""
        def look():
            self.poll()
            return next((t for t in self.seen if predicate(t)), None)
        try:
            return wait_until(look, timeout, what, interval=0.1)
        except Failure as error:
            raise Failure(f"{error}; the window's toasts were {self.seen}") from None


# --- the store, read with the command line ---------------------------------------------

def cli(*args, json_output=True):
    out = subprocess.run([CLI] + list(args), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Failure(f"smearscope-cli {' '.join(args)} failed ({out.returncode}):\n"
                      f"{out.stdout}{out.stderr}")
    return json.loads(out.stdout) if json_output else out.stdout


def write_user_name(name):
    """Set the user-name preference for the apps started afterwards: the keyfile
    settings backend in the private XDG_CONFIG_HOME (the memory backend is private to
    each process). Returns the environment to start the app with."""
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.environ["HOME"], ".config")
    folder = os.path.join(config, "glib-2.0", "settings")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "keyfile"), "w") as f:
        f.write("[org/smearscope/Smearscope]\nuser-name='%s'\n" % name.replace("'", "\\'"))
    return {"GSETTINGS_BACKEND": "keyfile"}


def run(main):
    """Run a test's main(); print what failed; the exit status meson reads."""
    try:
        main()
    except Failure as error:
        print(f"FAIL: {error}", flush=True)
        return 1
    except Exception:
        traceback.print_exc()
        print("FAIL: the test broke (traceback above)", flush=True)
        return 1
    except SystemExit as done:
        return done.code
    print("PASS", flush=True)
    return 0
