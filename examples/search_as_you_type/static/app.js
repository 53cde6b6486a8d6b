// Search-as-you-type client. Every input event is sent over the WebSocket as
// {seq, q}. The server answers with:
//   {type: "query",   seq, q}          the debounced query and its normalised form
//   {type: "results", seq, q, results} results for the normalised query q
//   {type: "error",   seq, message}
// Results are shown only if they answer what is in the box now: the last
// message we sent was acknowledged with normalised form q, and the results are
// for that same q. Anything else is stale and dropped. All text goes in with
// textContent, never innerHTML, so a query like <script> is just text.
"use strict";

(() => {
  const box = document.getElementById("q");
  const list = document.getElementById("results");
  const status = document.getElementById("status");
  const link = document.getElementById("link");
  const chosen = document.getElementById("chosen");
  const numbers = new Intl.NumberFormat("en");

  let socket = null;
  let seq = 0;          // the last sequence number sent
  let current = null;   // normalised form of the box, once the server has acknowledged seq
  let lastRendered = null; // the results message on screen
  let active = -1;      // keyboard-selected result
  let retryDelay = 250;
  let notice = "";      // said before the status until the next keystroke (a paste that was cut)
  const MAX = Number(box.getAttribute("maxlength"));
  const OFFLINE = "Offline: the server cannot be reached. Your search will run as soon as it reconnects.";

  const online = () => socket !== null && socket.readyState === WebSocket.OPEN;
  const quoted = (text) => (text.length > 80 ? `“${text.slice(0, 80)}…”` : `“${text}”`);

  const setState = (state, text) => {
    document.body.dataset.state = state;
    if (text !== undefined) status.textContent = notice ? `${notice} ${text}` : text;
    list.setAttribute("aria-busy", state === "searching" ? "true" : "false");
  };

  const send = () => {
    seq += 1;
    current = null;
    chosen.hidden = true;
    if (box.value.trim() === "") {
      clear();
      lastRendered = null;
      setState("idle", "Type at least two letters.");
    } else if (online()) {
      setState("searching", "Searching…");
    } else {
      setState("offline", OFFLINE);  // sent again on reconnect
    }
    if (online()) socket.send(JSON.stringify({ seq, q: box.value }));
  };

  const clear = () => {
    list.replaceChildren();
    list.tabIndex = -1;
    list.dataset.q = "";
    setActive(-1);
    box.setAttribute("aria-expanded", "false");
  };

  const highlighted = (parts) => {
    const span = document.createDocumentFragment();
    for (const [text, hit] of parts) {
      if (hit) {
        const mark = document.createElement("mark");
        mark.textContent = text;
        span.append(mark);
      } else {
        span.append(document.createTextNode(text));
      }
    }
    return span;
  };

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const render = (msg) => {
    clear();
    lastRendered = msg;
    list.dataset.q = msg.q;
    const results = msg.results || [];
    const top = Math.log10(Math.max(10, ...results.map((r) => r.population || 1)));
    results.forEach((city, i) => {
      const li = el("li");
      li.id = `result-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.name = city.name;
      const name = el("div", "name");
      const match = city.match || {};
      if (match.name === city.name) {
        name.append(highlighted(match.parts || [[city.name, false]]));
      } else {
        name.append(document.createTextNode(city.name));
        if (match.parts) {
          const also = el("span", "also");
          also.append(document.createTextNode("also "), highlighted(match.parts));
          name.append(also);
        }
      }
      if (match.tier === "typo") name.append(el("span", "tier", "did you mean?"));
      if (city.districts) {
        name.append(el("span", "tier", `+${city.districts} ${city.districts === 1 ? "district" : "districts"}`));
      }
      const where = el("div", "where");
      where.append(el("span", "cc", city.country_code), document.createTextNode(city.country));
      const pop = el("div", "pop", `${numbers.format(city.population)} people`);
      const bar = el("div", "bar");
      const fill = el("span");
      fill.style.width = `${Math.max(4, (100 * Math.log10(Math.max(10, city.population))) / top)}%`;
      bar.append(fill);
      li.append(name, pop, where, bar);
      li.addEventListener("mousedown", (event) => { event.preventDefault(); choose(i); });
      list.append(li);
    });
    box.setAttribute("aria-expanded", results.length ? "true" : "false");
    list.tabIndex = results.length ? 0 : -1;  // Tab from the box goes to the results
    if (msg.too_short) {
      setState("idle", "Keep typing: at least two letters.");
    } else if (results.length === 0) {
      setState("empty", `No results for ${quoted(box.value.trim())}.`);
    } else {
      const n = results.length;
      setState("results", `${n} ${n === 1 ? "city" : "cities"} — ${results[0].name} first.`);
    }
  };

  const setActive = (i) => {
    const items = list.querySelectorAll("li");
    items.forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    active = i;
    if (i >= 0 && items[i]) {
      box.setAttribute("aria-activedescendant", items[i].id);
      items[i].scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  };

  // Enter: the result goes into the box, the list closes, and what was chosen shows
  // right under the box (above the fold of any window).
  const choose = (i) => {
    const li = list.querySelectorAll("li")[i];
    if (!li) return;
    const where = li.querySelector(".where").textContent.slice(2);
    const people = li.querySelector(".pop").textContent;
    chosen.replaceChildren(el("strong", "", li.dataset.name), document.createTextNode(` — ${where}, ${people}.`));
    box.value = li.dataset.name;
    clear();
    lastRendered = null;
    current = null;
    chosen.hidden = false;
    box.focus();
    setState("chosen", `Chosen: ${li.dataset.name}, ${where}.`);
  };

  const onMessage = (event) => {
    let msg;
    try { msg = JSON.parse(event.data); } catch { return; }
    if (msg.type === "query") {
      if (msg.seq !== seq) return;           // we have typed since
      current = msg.q;
      // Back to the query already on screen ("lond" → "londo" → "lond"): the server
      // does not search it again (distinct), and what is shown answers the box.
      if (lastRendered && lastRendered.q === current) render(lastRendered);
    } else if (msg.type === "results") {
      if (current === null || msg.q !== current) return;  // stale: never shown
      render(msg);
    } else if (msg.type === "error") {
      if (msg.seq !== null && msg.seq !== seq) return;
      if (msg.too_long) clear();
      setState("error", msg.message);
    }
  };

  const connect = () => {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      link.textContent = "live";
      link.className = "link live";
      retryDelay = 250;
      if (box.value !== "") send();
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", () => {
      link.textContent = "reconnecting";
      link.className = "link down";
      if (box.value.trim() !== "" && document.body.dataset.state === "searching") setState("offline", OFFLINE);
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(5000, retryDelay * 2);
    });
  };

  let pasting = false;  // the input event that follows a paste keeps its notice
  box.addEventListener("input", () => {
    if (!pasting) notice = "";
    pasting = false;
    send();
  });
  // maxlength cuts a long paste silently: say so (the box keeps the first MAX characters)
  box.addEventListener("paste", (event) => {
    const text = event.clipboardData ? event.clipboardData.getData("text") : "";
    const kept = box.value.length - (box.selectionEnd - box.selectionStart);
    pasting = true;
    notice = kept + text.length > MAX
      ? `Pasted text cut to ${MAX} characters (it had ${numbers.format(text.length)}).`
      : "";
  });
  const onKey = (event) => {
    const n = list.children.length;
    if (event.key === "ArrowDown" && n) {
      event.preventDefault();
      setActive((active + 1) % n);
    } else if (event.key === "ArrowUp" && n) {
      event.preventDefault();
      setActive(active <= 0 ? n - 1 : active - 1);
    } else if (event.key === "Enter" && n) {
      event.preventDefault();
      choose(active >= 0 ? active : 0);  // nothing selected: the first result
    } else if (event.key === "Escape") {
      box.value = "";
      notice = "";
      chosen.hidden = true;
      box.focus();
      send();
    }
  };
  box.addEventListener("keydown", onKey);
  list.addEventListener("keydown", onKey);
  list.addEventListener("focus", () => { if (active < 0 && list.children.length) setActive(0); });
  document.querySelectorAll(".try").forEach((button) => {
    button.addEventListener("click", () => { box.value = button.textContent; box.focus(); send(); });
  });
  connect();
})();
