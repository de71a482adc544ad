// 实时转写: the call's live transcript through Server-Sent Events, knowledge-base articles
// for what the caller said, and the 登记诉求 form filled where the operator typed nothing.
(function () {
  "use strict";
  var box = document.getElementById("live-transcript");
  if (!box || !window.EventSource) { return; }
  var lines = box.querySelector(".live-lines");
  var partial = box.querySelector(".live-partial");
  var state = box.querySelector(".live-state");
  var articles = box.querySelector(".live-articles ol");
  var form = document.getElementById("file-case");
  var who = {inbound: "来电方", outbound: "坐席"};

  function line(track, text) {
    var p = document.createElement("p");
    p.className = "live-line track-" + track;
    var strong = document.createElement("strong");
    strong.textContent = who[track] || track;
    p.appendChild(strong);
    p.appendChild(document.createTextNode(" " + text));
    lines.appendChild(p);
  }

  // Only an empty field (or one still holding what was filled in before) is filled: nothing
  // the operator typed is ever replaced.
  function prefill(name, value) {
    if (!form || !value) { return; }
    var input = form.querySelector('[name="' + name + '"]');
    if (!input) { return; }
    var untouched = input.value === "" || input.value === input.dataset.prefilled ||
      (input.dataset.caller !== undefined && input.value === input.dataset.caller);
    if (!untouched) { return; }
    input.value = value;
    input.dataset.prefilled = value;
    input.classList.add("prefilled");
  }

  function assist(data) {
    articles.textContent = "";
    (data.articles || []).forEach(function (a) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/console/kb/" + a.id;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = a.title;
      li.appendChild(link);
      articles.appendChild(li);
    });
    var f = data.fields || {};
    if (f.enterprise) { prefill("enterprise_name", f.enterprise.value); }
    if (f.contact) { prefill("contact_name", f.contact.value); }
    if (f.phones && f.phones.length) { prefill("contact_phone", f.phones[0].value); }
  }

  var source = new EventSource(box.dataset.live);
  source.onmessage = function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (data.kind === "started") { state.textContent = "通话中，实时转写…"; }
    else if (data.kind === "partial") { partial.textContent = (who[data.track] || "") + "：" + data.text; }
    else if (data.kind === "final") { partial.textContent = ""; line(data.track, data.text); }
    else if (data.kind === "assist") { assist(data); }
    else if (data.kind === "ended") {
      state.textContent = data.complete ? "通话已结束，转写已保存" : "音频流中断，已保存收到的部分";
    }
  };
})();
