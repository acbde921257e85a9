// Tic-tac-toe replay renderer: a 3×3 SVG grid, X as a cross and O as a ring (shapes, not
// colour alone), the winning line's cells highlighted and struck through.
import { s } from "./dom.js";

const CELL = 60;

function mark(seat, cx, cy, extra) {
  const r = CELL * 0.3;
  const cls = `replay-seat-${seat} replay-mark${extra ? ` ${extra}` : ""}`;
  if (seat === 0)
    return s("path", { d: `M${cx - r} ${cy - r}L${cx + r} ${cy + r}M${cx + r} ${cy - r}L${cx - r} ${cy + r}`, class: cls });
  return s("circle", { cx, cy, r, class: cls });
}

export function glyph(seat) {
  const svg = s("svg", { viewBox: "0 0 60 60", class: "replay-glyph", "aria-hidden": "true" });
  svg.append(mark(seat, 30, 30));
  return svg;
}

export function render(step, previous, context) {
  const size = 3;
  const board = step.frame.board;
  const line = step.line;
  const last = step.frame.lastMove;
  const fresh = previous && last && !context.reducedMotion ? last.cell : -1;
  const svg = s("svg", { viewBox: `0 0 ${size * CELL} ${size * CELL}`, class: "replay-board replay-tictactoe" });
  board.forEach((value, cell) => {
    const x = (cell % size) * CELL;
    const y = Math.floor(cell / size) * CELL;
    const win = line.includes(cell);
    const group = s("g", { "data-cell": cell, "data-mark": value, class: win ? "replay-cell replay-win" : "replay-cell" });
    group.append(s("rect", { x: x + 2, y: y + 2, width: CELL - 4, height: CELL - 4, rx: 6, class: "replay-square" }));
    if (value) group.append(mark(value - 1, x + CELL / 2, y + CELL / 2, cell === fresh ? "replay-new" : ""));
    svg.append(group);
  });
  if (line.length >= 2) {
    const centre = (cell) => [(cell % size) * CELL + CELL / 2, Math.floor(cell / size) * CELL + CELL / 2];
    const [x1, y1] = centre(line[0]);
    const [x2, y2] = centre(line[line.length - 1]);
    svg.append(s("line", { x1, y1, x2, y2, class: "replay-strike" }));
  }
  return svg;
}
