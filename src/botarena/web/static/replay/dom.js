// Small DOM helpers shared by the replay player and its renderers: elements and SVG built
// from plain data, text always set as text (never parsed as HTML).

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.setAttribute("class", value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children || []) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** An HTML element: h("button", {type: "button", "aria-label": "Play"}, [child, "text"]). */
export function h(tag, attrs, children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, the same way. */
export function s(tag, attrs, children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** The shape standing for a seat: seat 0 a filled disc, seat 1 a ring, others a square. */
export function seatShape(seat, cx, cy, r, extra) {
  const cls = `replay-seat-${seat}` + (extra ? ` ${extra}` : "");
  if (seat === 0) return s("circle", { cx, cy, r, class: cls });
  if (seat === 1)
    return s("g", { class: cls }, [
      s("circle", { cx, cy, r }),
      s("circle", { cx, cy, r: r * 0.45, class: "replay-hole" }),
    ]);
  return s("rect", { x: cx - r, y: cy - r, width: 2 * r, height: 2 * r, class: cls });
}
