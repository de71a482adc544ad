// Transcript follows the audio; clicking a word seeks there. No libraries, no build step.
(function () {
  "use strict";
  document.querySelectorAll("[data-player]").forEach(function (box) {
    var audio = box.querySelector("audio");
    var words = Array.prototype.slice.call(box.querySelectorAll(".w[data-start]"));
    if (!audio || !words.length) { return; }
    var current = null;

    function seek(word) {
      audio.currentTime = parseFloat(word.dataset.start) || 0;
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    }

    words.forEach(function (word) {
      word.addEventListener("click", function () { seek(word); });
      word.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); seek(word); }
      });
    });

    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      var found = null;
      for (var i = 0; i < words.length; i++) {
        var start = parseFloat(words[i].dataset.start), end = parseFloat(words[i].dataset.end);
        if (t >= start && t < end + 0.05) { found = words[i]; break; }
      }
      if (found === current) { return; }
      if (current) { current.classList.remove("playing"); }
      if (found) { found.classList.add("playing"); }
      current = found;
    });
  });
})();
