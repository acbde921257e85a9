// Hungry Geese replay renderer: the wrap-around grid as SVG, each goose's cells joined head to
// tail with its letter (A to D) on the head, so seats differ by letter, not colour alone; food
// as small diamonds; a goose that is out is listed as out beside its reward.
import { h, s } from "./dom.js";

const CELL = 36;
const LETTERS = ["A", "B", "C", "D"];

export function glyph(seat) {
  return s("svg", { viewBox: "0 0 20 20", class: "replay-glyph", "aria-hidden": "true" }, [
    s("rect", { x: 1, y: 1, width: 18, height: 18, rx: 5, class: `replay-goose replay-seat-${seat}` }),
    s("text", { x: 10, y: 14.5, class: "replay-goose-letter", text: LETTERS[seat] ?? seat + 1 }),
  ]);
}

function centre(cell, columns) {
  return [(cell % columns) * CELL + CELL / 2, Math.floor(cell / columns) * CELL + CELL / 2];
}

function goose(cells, seat, columns) {
  const group = s("g", { class: `replay-goose replay-seat-${seat}`, "data-seat": seat,
    "data-length": cells.length });
  cells.forEach((cell, index) => {
    const [cx, cy] = centre(cell, columns);
    const size = index === 0 ? CELL * 0.9 : CELL * 0.7;
    group.append(s("rect", { x: cx - size / 2, y: cy - size / 2, width: size, height: size,
      rx: index === 0 ? 9 : 5, class: index === 0 ? "replay-goose-head" : "replay-goose-body" }));
  });
  if (cells.length) {
    const [cx, cy] = centre(cells[0], columns);
    group.append(s("text", { x: cx, y: cy + 6, class: "replay-goose-letter",
      text: LETTERS[seat] ?? seat + 1 }));
  }
  return group;
}

export function render(step, previous, context) {
  const { rows, columns } = context.configuration;
  const frame = step.frame;
  const svg = s("svg", { viewBox: `0 0 ${columns * CELL} ${rows * CELL}`,
    class: "replay-board replay-geese", "data-rows": rows, "data-columns": columns,
    "data-geese": frame.geese.length });
  svg.append(s("rect", { x: 0, y: 0, width: columns * CELL, height: rows * CELL,
    class: "replay-geese-field" }));
  for (const cell of frame.food) {
    const [cx, cy] = centre(cell, columns);
    svg.append(s("path", { d: `M${cx} ${cy - 9}l9 9-9 9-9-9z`, class: "replay-food",
      "data-food": cell }));
  }
  frame.geese.forEach((cells, seat) => svg.append(goose(cells, seat, columns)));
  const wrapper = h("div", { class: "replay-geese-wrap" }, [
    h("div", { role: "img", "aria-label": `Board at step ${frame.step}: ` + context.players.map(
      (player, seat) => `${player.label} ${frame.geese[seat].length ? `length ${frame.geese[seat].length}` : "out"}`,
    ).join(", ") }, [svg]),
    h("ol", { class: "replay-geese-status", "aria-label": "Geese" }, context.players.map(
      (player, seat) => h("li", { "data-seat": seat }, [glyph(seat), " ",
        h("strong", { text: player.name }), frame.geese[seat].length
          ? `: length ${frame.geese[seat].length}, reward ${frame.rewards[seat]}`
          : `: out, reward ${frame.rewards[seat]}`]))),
  ]);
  return wrapper;
}
