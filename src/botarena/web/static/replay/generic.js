// The fallback replay renderer, for a plug-in game that brings none: the server's text of
// each step (by default the game's replay frame as JSON), pre-formatted.
import { h } from "./dom.js";

export function render(step) {
  // Focusable, so that a long text scrolls with the keyboard too.
  return h("pre", { class: "replay-board replay-generic", tabindex: 0, text: step.board });
}
