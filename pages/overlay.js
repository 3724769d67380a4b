// overlay.js: the OBS overlay. Shows the current deck, its due counts, and this session's answers (since
// the page was opened): how many, the tally per button, the streak of correct answers, and a flash on each.
//
// Query options: theme=dark|light|minimal, show=deck,counts,session,tally,streak,flash (the widgets shown),
// position=top-left|top-right|bottom-left|bottom-right, scale=0.5..4, key=<apiKey>.

import { Live, isAnswer, options, reviewsSince, setText } from "./live.js";

const WIDGETS = ["deck", "counts", "session", "streak", "tally", "flash"];
const EASES = ["again", "hard", "good", "easy"];
const FLASH_MS = 1200;

const body = document.body;
const theme = options.get("theme");
body.dataset.theme = ["dark", "light", "minimal"].includes(theme) ? theme : "dark";
const position = options.get("position");
if (["top-left", "top-right", "bottom-left", "bottom-right"].includes(position)) body.dataset.position = position;
const scale = Number.parseFloat(options.get("scale") ?? "1");
if (Number.isFinite(scale) && scale >= 0.5 && scale <= 4) body.style.setProperty("--scale", String(scale));
const shown = new Set((options.get("show") ?? WIDGETS.join(",")).split(",").map((name) => name.trim()));
for (const name of WIDGETS) body.classList.toggle(`hide-${name}`, !shown.has(name));

// This session's answers, counted once each by review id (events and reloads may both bring one).
const session = { start: Date.now(), seen: new Set(), reviewed: 0, tally: [0, 0, 0, 0], streak: 0 };

function count(reviewId, ease) {
  if (session.seen.has(reviewId) || ease < 1 || ease > 4) return false;
  session.seen.add(reviewId);
  session.reviewed += 1;
  session.tally[ease - 1] += 1;
  session.streak = ease === 1 ? 0 : session.streak + 1;
  return true;
}

function render() {
  setText("reviewed", session.reviewed);
  setText("streak", session.streak);
  EASES.forEach((name, index) => setText(`tally-${name}`, session.tally[index]));
}

let flashes = 0;
let flashTimer = 0;

/** A brief flash in the answer's colour, with its name; restarts its animation for quick answers. */
function flash(ease) {
  const element = document.getElementById("flash");
  const panel = document.getElementById("panel");
  flashes += 1;
  element.textContent = EASES[ease - 1];
  element.dataset.ease = EASES[ease - 1];
  element.dataset.count = String(flashes);
  for (const target of [element, panel]) {
    target.classList.remove("flash");
    void target.offsetWidth; // restart the CSS animation
    target.classList.add("flash");
  }
  panel.dataset.ease = EASES[ease - 1];
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    element.classList.remove("flash");
    panel.classList.remove("flash");
  }, FLASH_MS);
}

function showCounts(data) {
  setText("deck-name", data.deck ?? "–");
  setText("count-new", data.new);
  setText("count-learn", data.learn);
  setText("count-review", data.review);
}

/** Recount the session from the review log (after a reconnect nothing is missed or counted twice). */
async function sync() {
  const { rows } = await reviewsSince(live, session.start);
  Object.assign(session, { seen: new Set(), reviewed: 0, tally: [0, 0, 0, 0], streak: 0 });
  for (const row of rows) if (isAnswer(row)) count(row.id, row.ease);
  render();
}

const live = new Live({
  events: ["card.answered", "counts.changed", "review.questionShown", "profile.opened", "profile.closed"],
  sync,
  onState: (state) => {
    body.dataset.state = state;
  },
  onEvent: (name, data) => {
    if (name === "counts.changed") showCounts(data);
    else if (name === "review.questionShown" && data.deck) setText("deck-name", data.deck);
    else if (name === "card.answered" && count(data.reviewId, data.ease)) {
      render();
      if (shown.has("flash")) flash(data.ease);
    }
  },
});
live.start();
