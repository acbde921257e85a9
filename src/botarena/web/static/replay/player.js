// The replay player: one shell that owns time (play, pause, steps, the slider, the speed,
// keys, ?step=N) around a game's renderer, a pure function (step, previous step, context)
// returning the board's DOM. Every word it shows comes from the server's view of the replay
// (games/replay_view.py), so the page without JavaScript says exactly the same.
//
// Each element [data-replay] on the page becomes a player. Its data: a child
// <script type="application/json" data-replay-view> or the URL in data-replay-src; optional
// data-replay-download (the replay JSON to download) and data-renderer-url (a plug-in
// game's own renderer module). A child [data-replay-text] (the text rendering) is hidden
// once the player runs.
import { h, s } from "./dom.js";
import { describeKeys, handleKey, shortcutsDialog } from "./keys.js";

const SPEEDS = [0.5, 1, 2, 4, 8];
const STEP_MS = 600; // one move at 1×
const SPEED_KEY = "botarena.replay.speed";
const RENDERER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ICONS = {
  first: "M6 6h2v12H6zM18 6v12l-9-6z",
  previous: "M15.5 6 9.5 12l6 6-1.5 1.5L6.5 12 14 4.5z",
  play: "M8 5v14l11-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  next: "M8.5 6l6 6-6 6 1.5 1.5L17.5 12 10 4.5z",
  last: "M16 6h2v12h-2zM6 6v12l9-6z",
};
const players = [];
let sequence = 0;

function icon(name) {
  return s("svg", { viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" }, [
    s("path", { d: ICONS[name] }),
  ]);
}

function storedSpeed() {
  try {
    const speed = Number(localStorage.getItem(SPEED_KEY));
    return SPEEDS.includes(speed) ? speed : 1;
  } catch {
    return 1; // storage refused (private mode): the default speed
  }
}

function storeSpeed(speed) {
  try {
    localStorage.setItem(SPEED_KEY, String(speed));
  } catch {
    // not remembered, still used
  }
}

async function loadView(root) {
  const block = root.querySelector('script[type="application/json"][data-replay-view]');
  if (block) return JSON.parse(block.textContent);
  const source = root.dataset.replaySrc;
  if (!source) throw new Error("This replay has no data.");
  const answer = await fetch(source, { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(`The replay could not be loaded (HTTP ${answer.status}).`);
  return answer.json();
}

async function loadRenderer(root, view) {
  const generic = new URL("./generic.js", import.meta.url).href;
  const name = RENDERER_NAME.test(view.renderer || "") ? view.renderer : "generic";
  const own = root.dataset.rendererUrl;
  const url = own ? new URL(own, document.baseURI).href : new URL(`./${name}.js`, import.meta.url).href;
  try {
    return await import(url);
  } catch {
    return import(generic); // a renderer that fails to load still leaves the replay readable
  }
}

class Player {
  constructor(root, view, renderer) {
    this.root = root;
    this.view = view;
    this.renderer = renderer;
    this.last = view.steps.length - 1;
    this.index = -1;
    this.timer = null;
    this.speed = storedSpeed();
    this.motion = window.matchMedia("(prefers-reduced-motion: reduce)");
    this.id = `replay-${++sequence}`;
    this.ready = false; // the first step shown at load is not written into the URL
    this.buttons = {};
  }

  button(action, label, onclick) {
    this.buttons[action] = h("button", { type: "button", class: "replay-button",
      "data-action": action, "aria-label": label, title: label, onclick }, [icon(action)]);
    return this.buttons[action];
  }

  build() {
    const { view, id } = this;
    this.stage = h("div", { class: "replay-stage" });
    this.now = h("p", { class: "replay-now" });
    this.result = h("p", { class: "replay-result", "data-replay-result": true, hidden: true,
      text: `Result: ${view.result.text}` });
    this.slider = h("input", { type: "range", id: `${id}-move`, class: "replay-slider", min: 0,
      max: this.last, step: 1, value: 0, oninput: () => this.go(Number(this.slider.value), true) });
    this.counter = h("span", { class: "replay-counter", "aria-hidden": "true" });
    this.playButton = this.button("play", "Play", () => this.toggle());
    this.textBoard = h("pre", { class: "replay-board-text" });
    const speed = h("select", { id: `${id}-speed`, onchange: () => this.setSpeed(Number(speed.value)) },
      SPEEDS.map((x) => h("option", { value: x, selected: x === this.speed, text: `${x}×` })));
    this.dialog = shortcutsDialog(`${id}-keys`);
    const download = this.root.dataset.replayDownload;
    this.moves = h("ol", { class: "replay-moves", "aria-label": "Moves",
      onkeydown: (event) => this.listKey(event) },
      view.steps.slice(1).map((step, offset) => h("li", {}, [h("button", { type: "button",
        tabindex: -1, "data-step": offset + 1, onclick: () => this.go(offset + 1, true),
        text: step.move })])));
    const seats = view.players.map((player) => h("li", { class: `replay-seat-${player.seat}` }, [
      this.renderer.glyph ? this.renderer.glyph(player.seat, view) : h("span", { text: player.glyph }),
      ` ${player.label}: `, h("strong", { text: player.name })]));
    return h("div", { class: "replay-player", role: "group", "aria-label": `${view.title} replay` }, [
      h("ul", { class: "replay-legend", "aria-label": "Players" }, seats),
      this.stage,
      h("div", { class: "replay-live", "aria-live": "polite", "aria-atomic": "true" }, [this.now, this.result]),
      h("div", { class: "replay-controls" }, [
        this.button("first", "First move", () => this.go(0, true)),
        this.button("previous", "Previous move", () => this.go(this.index - 1, true)),
        this.playButton,
        this.button("next", "Next move", () => this.go(this.index + 1, true)),
        this.button("last", "Last move", () => this.go(this.last, true)),
        h("label", { for: this.slider.id, class: "replay-slider-label", text: "Move" }),
        this.slider, this.counter,
        h("label", { for: speed.id, text: "Speed" }), speed,
        h("button", { type: "button", class: "replay-button replay-help-button", "aria-haspopup": "dialog",
          "aria-label": "Keyboard shortcuts", title: describeKeys(), onclick: () => this.dialog.showModal(),
          text: "?" }),
        download ? h("a", { href: download, download: `${view.game}-replay.json`, class: "replay-download",
          text: "Download replay (JSON)" }) : null,
      ]),
      h("details", { class: "replay-text" }, [h("summary", { text: "Board as text" }), this.textBoard]),
      h("h3", { class: "replay-moves-title", text: "Moves" }),
      // One Tab stop for the whole list, arrows inside it: a composite widget, as a toolbar.
      h("div", { role: "toolbar", "aria-orientation": "vertical", "aria-label": "Moves" }, [this.moves]),
      this.dialog,
    ]);
  }

  // Show step ``index``; ``byHand`` stops playback and records the step in the URL.
  go(index, byHand = false) {
    const target = Math.max(0, Math.min(this.last, index));
    if (byHand) this.pause();
    if (target === this.index) return;
    const { view } = this;
    const step = view.steps[target];
    const previous = this.index >= 0 && target === this.index + 1 ? view.steps[this.index] : null;
    this.index = target;
    const context = { players: view.players, configuration: view.configuration, game: view.game,
      reducedMotion: this.motion.matches, final: target === this.last, result: view.result };
    const board = this.renderer.render(step, previous, context);
    this.stage.replaceChildren(board);
    // A drawing is one image with a name; a renderer's HTML is read as it is.
    if (board instanceof SVGElement) {
      this.stage.setAttribute("role", "img");
      this.stage.setAttribute("aria-label", `${view.title} board after move ${target} of ${this.last}`);
    } else {
      this.stage.removeAttribute("role");
      this.stage.removeAttribute("aria-label");
    }
    this.slider.value = String(target);
    this.slider.setAttribute("aria-valuetext", `Move ${target} of ${this.last}: ${step.label}`);
    this.counter.textContent = `${target} / ${this.last}`;
    this.now.textContent = `Move ${target} of ${this.last}: ${step.move}.`;
    this.result.hidden = target !== this.last;
    this.textBoard.textContent = step.board;
    this.markMove(target);
    for (const [action, off] of [["first", target === 0], ["previous", target === 0],
      ["next", target === this.last], ["last", target === this.last]]) {
      this.buttons[action].setAttribute("aria-disabled", String(off));
    }
    if (this.timer === null && this.ready) this.remember();
  }

  markMove(target) {
    for (const item of this.moves.querySelectorAll("[aria-current], [tabindex='0']")) {
      item.removeAttribute("aria-current");
      item.tabIndex = -1;
    }
    const current = this.moves.querySelector(`[data-step="${Math.max(1, target)}"]`);
    if (!current) return;
    current.tabIndex = 0; // one stop in the tab order for the whole list
    if (target === 0) return;
    current.setAttribute("aria-current", "step");
    const list = this.moves;
    if (list.scrollHeight > list.clientHeight) {
      const top = current.offsetTop - list.offsetTop;
      if (top < list.scrollTop || top > list.scrollTop + list.clientHeight - current.offsetHeight) {
        list.scrollTop = top - list.clientHeight / 2;
      }
    }
  }

  listKey(event) {
    const delta = { ArrowUp: -1, ArrowDown: 1 }[event.key];
    const from = event.target.closest("[data-step]");
    if (!delta || !from) return;
    event.preventDefault();
    event.stopPropagation();
    const to = this.moves.querySelector(`[data-step="${Number(from.dataset.step) + delta}"]`);
    if (to) {
      from.tabIndex = -1;
      to.tabIndex = 0;
      to.focus();
    }
  }

  remember() {
    if (players[0] !== this) return; // one ?step= per page: the first player's
    const url = new URL(window.location.href);
    url.searchParams.set("step", String(this.index));
    window.history.replaceState(window.history.state, "", url);
  }

  play() {
    if (this.timer !== null || this.last === 0) return;
    if (this.index === this.last) this.go(0);
    this.playButton.setAttribute("aria-label", "Pause");
    this.playButton.title = "Pause";
    this.playButton.replaceChildren(icon("pause"));
    const tick = () => {
      this.go(this.index + 1);
      if (this.index >= this.last) this.pause();
      else this.timer = window.setTimeout(tick, STEP_MS / this.speed);
    };
    this.timer = window.setTimeout(tick, STEP_MS / this.speed);
  }

  pause() {
    if (this.timer === null) return;
    window.clearTimeout(this.timer);
    this.timer = null;
    this.playButton.setAttribute("aria-label", "Play");
    this.playButton.title = "Play";
    this.playButton.replaceChildren(icon("play"));
    this.remember();
  }

  toggle() {
    if (this.timer === null) this.play();
    else this.pause();
  }

  setSpeed(speed) {
    if (!SPEEDS.includes(speed)) return;
    this.speed = speed;
    storeSpeed(speed);
  }
}

function wanted(last) {
  const raw = new URLSearchParams(window.location.search).get("step");
  return raw !== null && /^\d{1,7}$/.test(raw) ? Math.min(Number(raw), last) : 0;
}

export async function mount(root) {
  if (root.dataset.replayMounted) return null;
  root.dataset.replayMounted = "true";
  try {
    const view = await loadView(root);
    const renderer = await loadRenderer(root, view);
    const player = new Player(root, view, renderer);
    players.push(player);
    const element = player.build();
    // The first step is shown before the player joins the page, so it is not announced.
    player.go(players[0] === player ? wanted(player.last) : 0);
    player.ready = true;
    root.querySelector("[data-replay-text]")?.setAttribute("hidden", "");
    root.append(element);
    root.classList.add("replay-ready");
    return player;
  } catch (error) {
    root.append(h("p", { class: "replay-error", role: "alert", text: String(error.message || error) }));
    return null;
  }
}

document.addEventListener("keydown", (event) => {
  const active = document.activeElement;
  const player = players.find((p) => p.root.contains(active)) || players[0];
  if (player) handleKey(event, player);
});
for (const root of document.querySelectorAll("[data-replay]")) mount(root);
