// live.js: the event protocol over a same-origin WebSocket, shared by the overlay and the dashboard.
//
// A Live connection subscribes with a snapshot (and, when it reconnects, `since` the last event it saw),
// runs actions on the same socket, and reconnects by itself after Anki restarts or the network blips,
// reporting "waiting" meanwhile. After every (re)subscription the page reloads what it shows from the
// collection (`sync`); events that arrive during that reload are held back and delivered after it, so a
// page that counts events (deduplicated by id) never misses or double-counts one. The API key, when the
// page was given one (`?key=`), goes into the socket's URL and is never logged.

/** The page's query options: key, theme, show... */
export const options = new URLSearchParams(location.search);

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2000;

/** A same-origin URL with the page's API key (for the status stream). */
export function withKey(path) {
  const url = new URL(path, location.href);
  const key = options.get("key");
  if (key) url.searchParams.set("key", key);
  return url.href;
}

function socketUrl() {
  const url = new URL(withKey("/"));
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

export class Live {
  /**
   * @param {object} handlers
   * @param {string[]} handlers.events the events to subscribe to
   * @param {(name: string, data: object, message: object) => void} handlers.onEvent
   * @param {(state: "live" | "waiting") => void} handlers.onState
   * @param {() => Promise<void>} handlers.sync reloads the page's data (runs after every subscription)
   */
  constructor({ events, onEvent, onState, sync }) {
    this.events = events;
    this.onEvent = onEvent;
    this.onState = onState;
    this.sync = sync;
    this.lastSeq = null; // the newest event seen: `since` for the next subscription
    this.nextId = 1;
    this.pending = new Map(); // request id -> {resolve, reject}
    this.held = null; // events waiting for a sync to finish, or null
    this.retryMs = RETRY_FIRST_MS;
    this.socket = null;
    this.state = null;
    this.reloading = false;
    this.reloadAgain = false;
  }

  start() {
    this.setState("waiting");
    this.connect();
  }

  /** Run an action on the socket; resolves with its result, rejects with its error. */
  call(action, params = {}) {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("not connected"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, action, version: 6, params }));
    });
  }

  setState(state) {
    if (state !== this.state) {
      this.state = state;
      this.onState(state);
    }
  }

  connect() {
    const socket = new WebSocket(socketUrl());
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = RETRY_FIRST_MS;
      this.subscribe();
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.held = null;
      for (const { reject } of this.pending.values()) reject(new Error("disconnected"));
      this.pending.clear();
      this.setState("waiting");
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    };
  }

  subscribe() {
    const params = { events: this.events, snapshot: true };
    if (this.lastSeq !== null) params.since = this.lastSeq;
    this.held = []; // the snapshot and the missed events follow the reply: hold them until the data is reloaded
    this.call("subscribe", params)
      .then((reply) => {
        if (this.lastSeq === null) this.lastSeq = reply.seq;
        return this.reload();
      })
      .catch(() => this.socket?.close()); // a refused subscription: start over
  }

  /**
   * Reload the page's data with events held back, then deliver them. Reloads never overlap (one asked for
   * meanwhile runs right after), so an event is never counted by one and then wiped out by the other.
   * "waiting" when the reload fails, e.g. while Anki has no profile open (profile.opened reloads again).
   */
  async reload() {
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = true;
    if (this.held === null) this.held = [];
    let ok = false;
    do {
      this.reloadAgain = false;
      try {
        await this.sync();
        ok = true;
      } catch {
        ok = false;
      }
    } while (this.reloadAgain && this.socket !== null);
    this.reloading = false;
    this.deliverHeld();
    this.setState(ok && this.socket !== null ? "live" : "waiting");
  }

  deliverHeld() {
    const held = this.held ?? [];
    this.held = null;
    for (const message of held) {
      if (message.type === "event") this.deliver(message);
      // A gap reported with the subscription is covered by the reload that just ran.
    }
  }

  receive(message) {
    if (message.type === undefined) {
      const waiting = this.pending.get(message.id);
      if (waiting !== undefined) {
        this.pending.delete(message.id);
        if (message.error === null) waiting.resolve(message.result);
        else waiting.reject(new Error(message.error));
      }
      return;
    }
    if (message.type === "gap") this.lastSeq = message.seq;
    else if (!message.snapshot) this.lastSeq = Math.max(this.lastSeq ?? 0, message.seq);
    if (this.held !== null) {
      this.held.push(message);
    } else if (message.type === "gap") {
      this.reload(); // events were missed: the data is reloaded instead
    } else if (message.type === "event") {
      this.deliver(message);
    }
  }

  deliver(message) {
    if (message.event === "profile.closed") this.setState("waiting");
    this.onEvent(message.event, message.data, message);
    if (message.event === "profile.opened" && !message.snapshot) this.reload();
  }
}

/** The kinds of review-log rows that are answers (learn, review, relearn, filtered), as card.answered. */
export function isAnswer(row) {
  return row.type >= 0 && row.type <= 3 && row.ease >= 1 && row.ease <= 4;
}

/**
 * Every review-log row newer than `startId` (ms), oldest first, read in one request so it is consistent
 * with the `extra` actions' results (read in the same request, before the rows).
 * @returns {Promise<{rows: {id: number, ease: number, type: number}[], extra: any[]}>}
 */
export async function reviewsSince(live, startId, extra = []) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const decks = await live.call("deckNames");
    const requests = [
      { action: "deckNames", version: 6 },
      ...extra.map(([action, params]) => ({ action, version: 6, params })),
      ...decks.map((deck) => ({ action: "cardReviews", version: 6, params: { deck, startID: startId } })),
    ];
    const replies = await live.call("multi", { actions: requests });
    const failed = replies.find((reply) => reply.error !== null);
    if (failed !== undefined) throw new Error(failed.error);
    // The rows of every deck are every card's rows, unless a deck came or went in between: then again.
    if (JSON.stringify(replies[0].result) !== JSON.stringify(decks)) continue;
    const rows = replies
      .slice(1 + extra.length)
      .flatMap((reply) => reply.result)
      .map(([id, , , ease, , , , , type]) => ({ id, ease, type }));
    rows.sort((a, b) => a.id - b.id);
    return { rows, extra: replies.slice(1, 1 + extra.length).map((reply) => reply.result) };
  }
  throw new Error("the decks kept changing");
}

/** The text of a field's HTML, without markup (parsed inert: nothing runs or loads). */
export function plainText(html) {
  const text = new DOMParser().parseFromString(String(html), "text/html").body.textContent ?? "";
  return text.replace(/\s+/g, " ").trim();
}

/** Set an element's text by id (never HTML). */
export function setText(id, value) {
  const element = document.getElementById(id);
  if (element !== null) element.textContent = String(value);
}
