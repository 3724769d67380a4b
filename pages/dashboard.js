// dashboard.js: a live view of today's reviews and retention, reviews per minute over the last hour, the
// notes added lately, the current deck's due counts, the server's clients and status.
//
// Query options: theme=dark|light, key=<apiKey>.

import { Live, isAnswer, options, plainText, reviewsSince, setText, withKey } from "./live.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const RECENT_NOTES = 10;
const EASES = ["again", "hard", "good", "easy"];
const SVG = "http://www.w3.org/2000/svg";

document.body.dataset.theme = options.get("theme") === "light" ? "light" : "dark";

// Answers counted once each by review id: today's (for the totals) and the last hour's times (for the chart).
const reviews = { seen: new Set(), today: 0, tally: [0, 0, 0, 0], times: [] };
let notes = []; // newest first: {noteId, text, model, deck}

function countAnswer(reviewId, ease, today) {
  if (reviews.seen.has(reviewId)) return false;
  reviews.seen.add(reviewId);
  if (today) {
    reviews.today += 1;
    reviews.tally[ease - 1] += 1;
  }
  if (reviewId > Date.now() - HOUR) reviews.times.push(reviewId); // a review's id is its time in ms
  return true;
}

function renderReviews() {
  setText("today-reviews", reviews.today);
  EASES.forEach((name, index) => setText(`today-${name}`, reviews.tally[index]));
  const correct = reviews.today - reviews.tally[0];
  setText("retention", reviews.today > 0 ? `${Math.round((100 * correct) / reviews.today)}%` : "–");
  renderChart();
}

/** One bar per minute of the last hour, newest on the right; redrawn on each answer and as time passes. */
function renderChart() {
  const now = Date.now();
  reviews.times = reviews.times.filter((time) => time > now - HOUR);
  const bins = new Array(60).fill(0);
  for (const time of reviews.times) {
    const age = Math.max(0, Math.floor((now - time) / MINUTE)); // a server clock a little ahead: this minute
    if (age < 60) bins[59 - age] += 1;
  }
  const peak = Math.max(...bins);
  const top = Math.max(peak, 4);
  const chart = document.getElementById("rpm-chart");
  chart.replaceChildren();
  bins.forEach((count, index) => {
    const bar = document.createElementNS(SVG, "rect");
    const height = count === 0 ? 1 : Math.max(3, (count / top) * 140);
    bar.setAttribute("x", String(index * 10 + 1));
    bar.setAttribute("width", "8");
    bar.setAttribute("y", String(150 - height));
    bar.setAttribute("height", String(height));
    bar.setAttribute("class", count === 0 ? "bar empty" : "bar");
    bar.dataset.count = String(count);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${count} in the minute ${59 - index} min ago`;
    bar.append(title);
    chart.append(bar);
  });
  chart.dataset.total = String(reviews.times.length);
  setText("rpm-total", reviews.times.length);
  setText("rpm-peak", peak);
}

function renderNotes() {
  const list = document.getElementById("recent-notes");
  list.replaceChildren(
    ...notes.map((note) => {
      const item = document.createElement("li");
      item.dataset.noteId = String(note.noteId);
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = note.text || "(empty)";
      const meta = document.createElement("span");
      meta.className = "meta";
      const added = new Date(note.noteId).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      meta.textContent = [note.model, note.deck, added].filter(Boolean).join(" · ");
      item.append(text, meta);
      return item;
    }),
  );
  document.getElementById("no-notes").hidden = notes.length > 0;
}

function addNote(note) {
  notes = [note, ...notes.filter((known) => known.noteId !== note.noteId)];
  notes.sort((a, b) => b.noteId - a.noteId);
  notes = notes.slice(0, RECENT_NOTES);
}

/** Reload today's answers, the last hour's and the latest notes from the collection. */
async function sync() {
  const [{ rows, extra }, noteIds] = await Promise.all([
    reviewsSince(live, Date.now() - 2 * DAY, [["getNumCardsReviewedToday", {}]]),
    live.call("findNotes", { query: "added:7" }),
  ]);
  const newest = noteIds.sort((a, b) => b - a).slice(0, RECENT_NOTES);
  const infos = (newest.length > 0 ? await live.call("notesInfo", { notes: newest }) : []).filter(
    (info) => info && info.noteId !== undefined, // a note deleted meanwhile is {}
  );
  const firstCards = infos.map((info) => info.cards?.[0]).filter((card) => card !== undefined);
  const cards = firstCards.length > 0 ? await live.call("cardsInfo", { cards: firstCards }) : [];
  const decks = new Map(cards.filter((card) => card && card.note !== undefined).map((c) => [c.note, c.deckName]));
  // The day's rows are the newest `getNumCardsReviewedToday` ones, read in the same request.
  const firstToday = rows.length - extra[0];
  Object.assign(reviews, { seen: new Set(), today: 0, tally: [0, 0, 0, 0], times: [] });
  rows.forEach((row, index) => {
    if (isAnswer(row)) countAnswer(row.id, row.ease, index >= firstToday);
    else reviews.seen.add(row.id);
  });
  notes = [];
  for (const info of infos) {
    const first = Object.values(info.fields ?? {}).sort((a, b) => a.order - b.order)[0];
    const deck = decks.get(info.noteId) ?? null;
    addNote({ noteId: info.noteId, text: plainText(first?.value ?? ""), model: info.modelName, deck });
  }
  renderReviews();
  renderNotes();
}

function showCounts(data) {
  setText("deck-name", data.deck ?? "–");
  setText("count-new", data.new);
  setText("count-learn", data.learn);
  setText("count-review", data.review);
}

function clock(time) {
  return new Date(time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

const live = new Live({
  events: [
    "card.answered",
    "note.added",
    "note.updated",
    "note.deleted",
    "counts.changed",
    "profile.opened",
    "profile.closed",
    "sync.started",
    "sync.finished",
  ],
  sync,
  onState: (state) => {
    document.body.dataset.state = state;
    setText("connection", state === "live" ? "Live" : "Waiting for Anki…");
    setText("server-state", state === "live" ? "connected" : "waiting for Anki");
  },
  onEvent: (name, data, message) => {
    if (name === "card.answered") {
      if (countAnswer(data.reviewId, data.ease, true)) renderReviews();
    } else if (name === "note.added" || (name === "note.updated" && notes.some((n) => n.noteId === data.noteId))) {
      addNote({ noteId: data.noteId, text: plainText(data.sortField), model: data.modelName, deck: data.deck });
      renderNotes();
    } else if (name === "note.deleted") {
      notes = notes.filter((note) => note.noteId !== data.noteId);
      renderNotes();
    } else if (name === "counts.changed") {
      showCounts(data);
    } else if (name === "profile.opened") {
      setText("profile", data.profile);
    } else if (name === "profile.closed") {
      setText("profile", "(closed)");
    } else if (name === "sync.started") {
      setText("sync-state", `running since ${clock(message.time)}`);
    } else if (name === "sync.finished") {
      setText("sync-state", `${data.ok ? "done" : "failed"} at ${clock(message.time)}`);
    }
  },
});

// The server's status and clients, streamed by the server (GET /pages/status); the uptime ticks locally.
let uptime = null; // {seconds, at}

function watchStatus() {
  const source = new EventSource(withKey("/pages/status"));
  source.addEventListener("status", (event) => {
    const status = JSON.parse(event.data);
    setText("ws-clients", status.websocketClients ?? "?");
    setText("http-connections", status.httpConnections ?? "?");
    setText("version", status.version ? `${status.version} (API ${status.apiVersion})` : `API ${status.apiVersion}`);
    setText("event-seq", status.eventSeq);
    setText("api-key", status.apiKeyRequired ? "required" : "none");
    uptime = { seconds: status.uptime, at: performance.now() };
    showUptime();
  });
  source.onerror = () => {
    setText("ws-clients", "–");
    setText("http-connections", "–");
    uptime = null;
    showUptime();
    if (source.readyState === EventSource.CLOSED) setTimeout(watchStatus, 2000); // refused: try again later
  };
}

function showUptime() {
  if (uptime === null) return setText("uptime", "–");
  const seconds = Math.floor(uptime.seconds + (performance.now() - uptime.at) / 1000);
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  setText("uptime", h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : m > 0 ? `${m} min ${s} s` : `${s} s`);
}

renderReviews();
renderNotes();
live.start();
watchStatus();
setInterval(showUptime, 1000);
setInterval(renderChart, 15_000); // the hour moves on
setInterval(() => live.state === "live" && live.reload(), 5 * MINUTE); // a new day starts at Anki's rollover
