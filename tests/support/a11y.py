"""Accessibility checks for every page: axe-core's rules, and a walk with the keyboard alone.

``axe_check(page)`` runs the axe-core bundled with axe-playwright-python and fails on any
serious or critical violation, naming each rule, where it was found and what it asks.
``keyboard_walk(page)`` presses Tab through the page as a keyboard user would and fails when
an interactive element cannot be reached, has no accessible name, or shows no visible sign of
having the focus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING_IMPACTS = ("serious", "critical")

# Run in the page (they work with the page's own JavaScript disabled too): what may take the
# focus, and what the focus looks like. An element's look with the focus is compared with its
# look after a blur; it is focused again at once, so Tab goes on from it.
_KEYBOARD = """({
  path(el) {
    const parts = [];
    for (let node = el; node && node.nodeType === 1 && node !== document.body;
         node = node.parentElement) {
      if (node.id) { parts.unshift(`${node.localName}#${node.id}`); break; }
      const same = [...node.parentElement.children].filter(c => c.localName === node.localName);
      parts.unshift(same.length > 1
        ? `${node.localName}:nth-of-type(${same.indexOf(node) + 1})` : node.localName);
    }
    return parts.join(" > ");
  },
  interactive() {
    const native = "a[href], area[href], button, input:not([type=hidden]), select, textarea, "
      + "summary, iframe, [contenteditable=''], [contenteditable=true]";
    const roles = ["button", "link", "checkbox", "radio", "switch", "tab", "menuitem",
      "option", "slider", "spinbutton", "combobox", "textbox", "treeitem"];
    const widget = roles.map(r => `[role=${r}]`).join(", ");
    const composite = "[role=toolbar], [role=tablist], [role=radiogroup], [role=listbox], "
      + "[role=grid], [role=menu], [role=menubar], [role=tree], [role=treegrid]";
    const found = [];
    for (const el of document.querySelectorAll(`${native}, ${widget}, [tabindex]`)) {
      if (!el.matches(`${native}, ${widget}`) && el.tabIndex < 0) continue;
      if (el.matches(":disabled") || el.closest("[inert]")) continue;
      if (el.closest("[aria-hidden=true]") && el.tabIndex < 0) continue;
      const box = el.getBoundingClientRect();
      if (!el.checkVisibility({visibilityProperty: true}) || !box.width || !box.height) continue;
      const owner = el.parentElement && el.parentElement.closest(composite);
      const group = el.type === "radio" ? `radio:${el.name}` : owner ? this.path(owner) : "";
      const label = (el.getAttribute("aria-label") || el.textContent || el.name || "")
        .trim().slice(0, 40);
      found.push({path: this.path(el), label, group});
    }
    return found;
  },
  start() {
    if (document.activeElement) document.activeElement.blur();
    window.scrollTo(0, 0);
  },
  look(el) {
    const keys = ["outline-style", "outline-width", "outline-color", "outline-offset",
      "box-shadow", "border-top-color", "border-bottom-color", "border-top-width",
      "border-bottom-width", "background-color", "color", "text-decoration-line"];
    return [el, el.parentElement].filter(Boolean).map(node => {
      const style = getComputedStyle(node);
      return keys.map(k => style.getPropertyValue(k)).join("|");
    }).join("||");
  },
  focused() {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const focused = this.look(el);
    el.blur();
    const blurred = this.look(el);
    el.focus();
    return {path: this.path(el), changed: focused !== blurred};
  },
})"""


def axe_violations(page: Page, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, those of ``impacts`` only."""
    response: dict[str, Any] = Axe().run(page).response
    return [v for v in response["violations"] if v.get("impact") in impacts]


def describe_violation(violation: dict[str, Any], shown: int = 5) -> str:
    """The rule, its impact, what it asks and where (the first ``shown`` places)."""
    nodes = violation["nodes"]
    targets = ", ".join(" ".join(str(p) for p in node.get("target", [])) for node in nodes[:shown])
    if len(nodes) > shown:
        targets += f" and {len(nodes) - shown} more"
    return (
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        f" [{violation.get('helpUrl', '')}]\n    at: {targets}"
    )


def axe_check(page: Page, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> None:
    """Fail when axe-core finds a violation of ``impacts`` (serious or critical) on the page."""
    violations = axe_violations(page, impacts)
    if violations:
        raise AssertionError(
            f"{len(violations)} accessibility violation(s) on {page.url}:\n"
            + "\n".join(describe_violation(v) for v in violations)
        )


@dataclass(frozen=True)
class Stop:
    """One element the Tab key reached: where it is, its name, whether focus shows on it."""

    path: str
    name: str
    focus_visible: bool


def _focused_name(page: Page) -> str:
    """The accessible name of the focused element, as Chromium computes it for screen readers."""
    session = page.context.new_cdp_session(page)
    try:
        found = session.send(
            "Runtime.evaluate", {"expression": "document.activeElement", "objectGroup": "kw"}
        )
        object_id = found["result"].get("objectId")
        if object_id is None:
            return ""
        tree = session.send(
            "Accessibility.getPartialAXTree", {"objectId": object_id, "fetchRelatives": False}
        )
        session.send("Runtime.releaseObjectGroup", {"objectGroup": "kw"})
    finally:
        session.detach()
    for node in tree["nodes"]:
        if not node.get("ignored"):
            return str(node.get("name", {}).get("value", "")).strip()
    return ""


def keyboard_walk(page: Page, *, limit: int = 400) -> list[Stop]:
    """Tab through the whole page from its start; the stops in order.

    Fails listing every interactive element that Tab never reached (a member of a radio group
    or of a composite widget such as a toolbar counts as reached when one of its members was:
    arrow keys move inside those), every stop without an accessible name, and every stop whose
    look does not change when it gets the focus.
    """
    interactive: list[dict[str, str]] = page.evaluate(f"{_KEYBOARD}.interactive()")
    page.evaluate(f"{_KEYBOARD}.start()")
    stops: list[Stop] = []
    seen: set[str] = set()
    for _ in range(min(limit, len(interactive) + 20)):
        page.keyboard.press("Tab")
        state: dict[str, Any] | None = page.evaluate(f"{_KEYBOARD}.focused()")
        if state is None:
            if stops:
                break  # past the last element: focus left the page
            continue
        if state["path"] in seen:
            break  # came round to the first element again
        seen.add(state["path"])
        stops.append(Stop(state["path"], _focused_name(page), bool(state["changed"])))
    reached_groups = {item["group"] for item in interactive if item["path"] in seen}
    problems = [
        f"not reachable with Tab: {item['path']} {item['label']!r}"
        for item in interactive
        if item["path"] not in seen and not (item["group"] and item["group"] in reached_groups)
    ]
    problems += [f"no accessible name: {stop.path}" for stop in stops if not stop.name]
    problems += [
        f"no visible focus indicator: {stop.path} {stop.name!r}"
        for stop in stops
        if not stop.focus_visible
    ]
    if problems:
        raise AssertionError(
            f"keyboard walk of {page.url} ({len(stops)} stops):\n  " + "\n  ".join(problems)
        )
    return stops
