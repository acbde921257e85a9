// Rock, paper, scissors replay renderer: each player's throw as a shape and a word, who took
// the round, and the running score.
import { h, s } from "./dom.js";

const SIGNS = ["rock", "paper", "scissors", "Spock", "lizard"];
const SHAPES = [
  "M14 30l6-14 14-6 14 6 6 14-4 14-16 8-16-8z",
  "M18 8h28v48H18zM24 18h16M24 26h16M24 34h16M24 42h10",
  "M20 14l24 30M44 14L20 44M20 50a6 6 0 1 0 0-.1M44 50a6 6 0 1 0 0-.1",
  "M22 56V30l-6-16M30 28V8M36 28V8M42 56V30l6-16",
  "M10 40l22-28 22 28-12 8H22z",
];

function hand(sign, seat) {
  return s("svg", { viewBox: "0 0 64 64", class: `replay-hand replay-seat-${seat}`, "aria-hidden": "true" },
    [s("path", { d: SHAPES[sign] ?? SHAPES[0] })]);
}

export function glyph(seat) {
  return h("span", { class: `replay-seat-badge replay-seat-${seat}`, text: String(seat + 1) });
}

export function render(step, previous, context) {
  const frame = step.frame;
  const throws = frame.actions;
  const sides = context.players.map((player, seat) => {
    const sign = throws ? throws[seat] : null;
    const points = frame.roundPoints ? frame.roundPoints[seat] : 0;
    return h("figure", { class: `replay-rps-side replay-seat-${seat}${points > 0 ? " replay-win" : ""}`, "data-seat": seat }, [
      sign === null ? h("div", { class: "replay-hand replay-waiting", text: "…" }) : hand(sign, seat),
      h("figcaption", {}, [h("strong", { text: player.name }), h("br"),
        sign === null ? "no throw yet" : `${SIGNS[sign] ?? sign}${points > 0 ? " (takes the round)" : ""}`]),
    ]);
  });
  const totals = frame.totals || [0, 0];
  return h("div", { class: "replay-board replay-rps" }, [
    h("div", { class: "replay-rps-round", text: `Round ${frame.step} of ${context.configuration.episodeSteps}` }),
    h("div", { class: "replay-rps-sides" }, sides),
    h("div", { class: "replay-rps-score", "data-totals": totals.join(","),
      text: `Score ${totals[0]} : ${totals[1]}` }),
  ]);
}
