// The replay player's keyboard: Space, ←/→, Home/End and ? (help), silent while the focus
// is in a form field, so typing elsewhere on the page never moves the replay.
import { h } from "./dom.js";

const KEYS = [
  ["Space", "Play or pause"],
  ["← / →", "Previous or next move"],
  ["Home / End", "First or last move"],
  ["?", "Show these shortcuts"],
];
const FIELDS = "input, textarea, select, [contenteditable]:not([contenteditable='false'])";
// Space and Enter already press a focused button or follow a focused link.
const PRESSABLE = "button, a[href], summary";

export function describeKeys() {
  return KEYS.map(([key, what]) => `${key}: ${what}`).join("; ");
}

export function shortcutsDialog(id) {
  const dialog = h("dialog", { class: "replay-help", "aria-labelledby": `${id}-title` }, [
    h("h2", { id: `${id}-title`, text: "Keyboard shortcuts" }),
    h("dl", {}, KEYS.flatMap(([key, what]) => [h("dt", {}, [h("kbd", { text: key })]),
      h("dd", { text: what })])),
  ]);
  dialog.append(h("button", { type: "button", text: "Close", onclick: () => dialog.close() }));
  return dialog;
}

export function handleKey(event, player) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target instanceof Element ? event.target : null;
  if (target && target.closest(FIELDS)) return;
  if (document.querySelector("dialog[open]")) return; // the dialog keeps its own keys (Escape)
  const pressable = target && target.closest(PRESSABLE);
  const actions = {
    " ": () => player.toggle(),
    ArrowLeft: () => player.go(player.index - 1, true),
    ArrowRight: () => player.go(player.index + 1, true),
    Home: () => player.go(0, true),
    End: () => player.go(player.last, true),
    "?": () => player.dialog.showModal(),
  };
  const action = actions[event.key];
  if (!action || (event.key === " " && pressable)) return;
  event.preventDefault();
  action();
}
