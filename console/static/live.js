/* 实时监控: the wallboard follows the live stream (Server-Sent Events); every value goes into
   the page as text. Waits and times in state count on in the browser between snapshots. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) { return; }
  var receivedAt = Date.now();
  var source = null;
  var retryTimer = null;

  function text(id, value) { document.getElementById(id).textContent = String(value); }
  function percent(ratio) { return ratio.value === null ? "—" : (Math.round(ratio.value * 1000) / 10) + "%"; }
  function duration(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m ? m + "分" + (s < 10 ? "0" : "") + s + "秒" : s + "秒";
  }
  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (content !== undefined) { node.textContent = String(content); }
    return node;
  }

  function render(data) {
    receivedAt = Date.now();
    text("waiting-count", data.waiting.length);
    var longest = document.getElementById("longest-wait");
    longest.dataset.seconds = String(data.longest_wait_seconds);
    text("callbacks-pending", data.callbacks.pending);
    text("callbacks-overdue", data.callbacks.overdue);
    text("today-offered", data.today.offered);
    text("today-answered", data.today.answered);
    text("today-abandoned", data.today.abandoned);
    text("today-sl", percent(data.today.service_level));
    text("today-asa", data.today.asa_seconds === null ? "—" : data.today.asa_seconds);
    text("today-aht", data.today.aht_seconds === null ? "—" : data.today.aht_seconds);
    text("today-callbacks", data.today.callbacks_done);
    var list = document.getElementById("waiting-list");
    list.replaceChildren();
    data.waiting.forEach(function (w) {
      var item = el("li");
      item.appendChild(el("span", "w-area", w.area));
      var time = el("span", "w-time");
      time.dataset.seconds = String(w.waited_seconds);
      item.appendChild(time);
      if (w.connecting) { item.appendChild(el("span", "w-note", "接通中")); }
      list.appendChild(item);
    });
    document.getElementById("waiting-empty").hidden = data.waiting.length > 0;
    var counts = Object.keys(data.by_state).map(function (name) { return name + " " + data.by_state[name]; });
    text("state-counts", counts.join("　"));
    var ops = document.getElementById("operator-list");
    ops.replaceChildren();
    data.operators.forEach(function (o) {
      var item = el("li", "op state-" + o.state);
      item.appendChild(el("span", "op-name", o.name));
      item.appendChild(el("span", "op-state", o.label));
      var time = el("span", "op-time");
      time.dataset.seconds = String(o.seconds);
      item.appendChild(time);
      ops.appendChild(item);
    });
    tick();
  }

  function tick() {
    var passed = Math.floor((Date.now() - receivedAt) / 1000);
    board.querySelectorAll("[data-seconds]").forEach(function (node) {
      var seconds = Number(node.dataset.seconds) + passed;
      node.textContent = node.id === "longest-wait" && !Number(node.dataset.seconds) ? "0" : duration(seconds);
    });
    var now = new Date();
    text("board-clock", now.toLocaleTimeString("zh-CN", {hour12: false}));
  }

  function connect() {
    retryTimer = null;
    source = new EventSource(board.dataset.stream);
    source.onopen = function () { text("board-live", "实时"); board.dataset.live = "1"; };
    source.onerror = function () {
      text("board-live", "重连中…");
      board.dataset.live = "0";
      if (source.readyState === EventSource.CLOSED && !retryTimer) {
        retryTimer = setTimeout(connect, 3000);
      }
    };
    source.addEventListener("snapshot", function (e) {
      render(JSON.parse(e.data));
      board.dataset.updated = String(Date.now());
    });
  }

  connect();
  setInterval(tick, 1000);
  tick();
})();
