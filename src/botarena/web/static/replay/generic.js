// The fallback replay renderer, for a plug-in game that brings none: the server's text of
// each step (by default the game's replay frame as JSON), pre-formatted.
import { h } from "./dom.js";

export function render(step) {
  return h("pre", { class: "replay-board replay-generic", text: step.board });
}
