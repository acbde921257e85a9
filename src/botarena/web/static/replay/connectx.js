// ConnectX replay renderer: the board as SVG, seat 0 a filled disc, seat 1 a ring (shape,
// not colour alone), the winning line outlined, the new piece dropping in when stepping on.
import { s, seatShape } from "./dom.js";

const CELL = 40;
const TOP = 20; // room for the column numbers

export function glyph(seat) {
  return s("svg", { viewBox: "0 0 20 20", class: "replay-glyph", "aria-hidden": "true" },
    [seatShape(seat, 10, 10, 8)]);
}

export function render(step, previous, context) {
  const { rows, columns } = context.configuration;
  const board = step.frame.board;
  const line = new Set(step.line);
  const last = step.frame.lastMove;
  const fresh = previous && last && !context.reducedMotion ? last.cell : -1;
  const svg = s("svg", { viewBox: `0 0 ${columns * CELL} ${rows * CELL + TOP}`,
    class: "replay-board replay-connectx", "data-rows": rows, "data-columns": columns });
  for (let column = 0; column < columns; column++) {
    svg.append(s("text", { x: column * CELL + CELL / 2, y: TOP - 6, class: "replay-label",
      text: column + 1 }));
  }
  svg.append(s("rect", { x: 0, y: TOP, width: columns * CELL, height: rows * CELL,
    rx: 8, class: "replay-frame" }));
  board.forEach((mark, cell) => {
    const cx = (cell % columns) * CELL + CELL / 2;
    const cy = Math.floor(cell / columns) * CELL + CELL / 2 + TOP;
    const group = s("g", { "data-cell": cell, "data-mark": mark,
      class: line.has(cell) ? "replay-cell replay-win" : "replay-cell" });
    group.append(s("circle", { cx, cy, r: CELL * 0.4, class: "replay-empty" }));
    if (mark) {
      const piece = seatShape(mark - 1, cx, cy, CELL * 0.38, cell === fresh ? "replay-new" : "");
      if (cell === fresh) piece.style.setProperty("--drop", `${-(cy - TOP + CELL)}px`);
      group.append(piece);
    }
    if (line.has(cell)) group.append(s("circle", { cx, cy, r: CELL * 0.46, class: "replay-ring" }));
    svg.append(group);
  });
  return svg;
}
