// Review form: type part of an enterprise's name or its credit code, pick it from the list.
// Without JavaScript the typed text is resolved by the server. No libraries, no build step.
(function () {
  "use strict";
  document.querySelectorAll("[data-enterprise-picker]").forEach(function (box) {
    var input = box.querySelector("input[name=enterprise]");
    var picked = box.querySelector("input[name=enterprise_id]");
    var list = box.querySelector(".picker-results");
    var url = box.dataset.searchUrl;
    var timer = null;
    var asked = "";

    function close() { list.hidden = true; list.textContent = ""; }

    function choose(item) {
      input.value = item.name;
      picked.value = String(item.id);
      close();
      input.focus();
    }

    function show(results) {
      list.textContent = "";
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = "没有匹配的企业";
        list.appendChild(none);
      }
      results.forEach(function (item) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "option");
        button.textContent = item.name + (item.uscc ? " · " + item.uscc : "");
        button.addEventListener("click", function () { choose(item); });
        li.appendChild(button);
        list.appendChild(li);
      });
      list.hidden = false;
    }

    function search() {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      asked = q;
      fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { if (asked === q) { show(body.results || []); } })
        .catch(close);
    }

    input.addEventListener("input", function () {
      picked.value = "";  // typed over: the server resolves the text
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { close(); }
      if (event.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
  });
})();
