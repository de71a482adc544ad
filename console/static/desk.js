/* 坐席工作台: presence, the screen pop and the browser softphone, live (Server-Sent Events).
   Data from the server goes into the page as text; the pop is server-rendered HTML. */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) { return; }
  var label = document.getElementById("presence-label");
  var since = document.getElementById("presence-since");
  var notice = document.getElementById("presence-notice");
  var liveStatus = document.getElementById("live-status");
  var popBox = document.getElementById("pop");
  var loadedAt = Date.now();
  var source = null;
  var retryTimer = null;

  function setLive(text, ok) {
    liveStatus.textContent = text;
    liveStatus.dataset.ok = ok ? "1" : "0";
  }

  function presence(event) {
    label.textContent = event.label;
    label.dataset.state = event.state;
    label.className = "presence-label state-" + event.state;
    since.dataset.seconds = "0";
    since.dataset.base = String(Date.now());
    since.textContent = "0";
    notice.textContent = event.notice || "";
    if (event.state === "wrap_up" && !document.getElementById("wrapup")) {
      window.location.reload();  // the wrap-up form of the call just ended
    }
  }

  function loadPop(entryId) {
    fetch(desk.dataset.pop + entryId, {credentials: "same-origin"}).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      popBox.innerHTML = html;
      popBox.dataset.entry = String(entryId);
      loadedAt = Date.now();
      popBox.dispatchEvent(new CustomEvent("hotline:pop", {bubbles: true, detail: {entryId: entryId}}));
    });
  }

  function offer(event) {
    var status = document.getElementById("pop-status");
    if (status && event.label) { status.textContent = event.label; }
    if (event.status === "caller_gone" && status) { status.classList.add("gone"); }
    var shown = Number(popBox.dataset.entry || 0);
    if (event.entry_id && event.entry_id !== shown) {
      loadPop(event.entry_id);  // two operators answered in the other order: the caller swapped
    } else if ((event.status === "bridged" || event.status === "ended") && shown) {
      loadPop(shown);
    }
    popBox.dispatchEvent(new CustomEvent("hotline:call-event", {bubbles: true, detail: event}));
  }

  function handlers(es) {
    es.addEventListener("presence", function (e) { presence(JSON.parse(e.data)); });
    es.addEventListener("pop", function (e) { loadPop(JSON.parse(e.data).entry_id); });
    es.addEventListener("offer", function (e) { offer(JSON.parse(e.data)); });
    es.addEventListener("wrapup", function () { window.location.reload(); });
  }

  function connect() {
    retryTimer = null;
    source = new EventSource(desk.dataset.stream);
    source.onopen = function () { setLive("实时通知已连接", true); };
    source.onerror = function () {
      setLive("实时通知重连中…", false);
      if (source.readyState === EventSource.CLOSED && !retryTimer) {
        retryTimer = setTimeout(connect, 3000);  // refused (busy): try again ourselves
      }
    };
    handlers(source);
  }

  function tick() {
    var base = Number(since.dataset.base || loadedAt);
    since.textContent = String(Number(since.dataset.seconds) + Math.floor((Date.now() - base) / 1000));
    var waited = popBox.querySelector("[data-ticking]");
    if (waited) {
      waited.textContent = String(Number(waited.dataset.seconds) + Math.floor((Date.now() - loadedAt) / 1000));
    }
  }

  // The browser softphone (Twilio Voice JavaScript SDK), when this operator's device is one.
  function softphone() {
    var tokenUrl = desk.dataset.softphone;
    if (!tokenUrl || !desk.dataset.sdk) { return; }
    var status = document.getElementById("softphone-status");
    var answer = document.getElementById("softphone-answer");
    function token() {
      return fetch(tokenUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); });
    }
    var script = document.createElement("script");
    script.src = desk.dataset.sdk;
    script.onload = function () {
      token().then(function (data) {
        var device = new window.Twilio.Device(data.token, {closeProtection: true});
        device.on("registered", function () { status.textContent = "已连接，可接听"; });
        device.on("error", function (err) { status.textContent = "错误：" + err.message; });
        device.on("tokenWillExpire", function () {
          token().then(function (fresh) { device.updateToken(fresh.token); });
        });
        device.on("incoming", function (call) {
          status.textContent = "来电振铃";
          answer.hidden = false;
          answer.onclick = function () { call.accept(); answer.hidden = true; status.textContent = "通话中"; };
          call.on("disconnect", function () { status.textContent = "已连接，可接听"; answer.hidden = true; });
          call.on("cancel", function () { status.textContent = "来电已挂断"; answer.hidden = true; });
        });
        device.register();
      });
    };
    script.onerror = function () { status.textContent = "无法加载浏览器通话组件"; };
    document.head.appendChild(script);
  }

  since.dataset.base = String(loadedAt);
  connect();
  setInterval(tick, 1000);
  softphone();
})();
