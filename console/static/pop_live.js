// 实时转写 in the screen pop: the call's live transcript (the desk's call stream, SSE through
// Redis), knowledge-base articles for what the caller said and the fields read from it.
// Every word goes into the page as text.
(function () {
  "use strict";
  var source = null;
  var who = {inbound: "来电方", outbound: "坐席"};
  var fieldLabels = {enterprise: "企业", contact: "联系人", phones: "电话", town: "镇街", area: "类别"};

  function attach() {
    if (source) { source.close(); source = null; }
    var box = document.querySelector("#pop-panels [data-live-stream]");
    if (!box || !window.EventSource) { return; }
    var lines = box.querySelector(".live-lines");
    var partial = box.querySelector(".live-partial");
    var articles = box.querySelector(".live-articles ol");
    var fields = box.querySelector(".live-fields");

    function line(track, text) {
      var wait = lines.querySelector(".live-wait");
      if (wait) { wait.remove(); }
      var p = document.createElement("p");
      p.className = "live-line track-" + track;
      var strong = document.createElement("strong");
      strong.textContent = who[track] || track;
      p.appendChild(strong);
      p.appendChild(document.createTextNode(" " + text));
      lines.appendChild(p);
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
      fields.textContent = "";
      var f = data.fields || {};
      Object.keys(fieldLabels).forEach(function (name) {
        var value = f[name];
        if (name === "phones") { value = value && value.length ? value[0] : null; }
        if (!value) { return; }
        var dt = document.createElement("dt");
        dt.textContent = fieldLabels[name];
        var dd = document.createElement("dd");
        dd.textContent = value.value;
        fields.appendChild(dt);
        fields.appendChild(dd);
      });
    }

    source = new EventSource(box.dataset.liveStream);
    source.addEventListener("live_transcript", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.kind === "partial") { partial.textContent = (who[data.track] || "") + "：" + data.text; }
      else if (data.kind === "final") { partial.textContent = ""; line(data.track, data.text); }
      else if (data.kind === "assist") { assist(data); }
      else if (data.kind === "ended") { partial.textContent = ""; }
    });
  }

  document.addEventListener("hotline:pop", attach);
  attach();
})();
