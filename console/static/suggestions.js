// Evidence words of a field suggestion seek the voicemail's audio, as the transcript's words do.
(function () {
  "use strict";
  document.querySelectorAll(".w-seek[data-seek]").forEach(function (button) {
    button.addEventListener("click", function () {
      var box = document.querySelector('[data-player][data-recording="' + button.dataset.recording + '"]');
      var audio = box && box.querySelector("audio");
      if (!audio) { return; }
      audio.currentTime = parseFloat(button.dataset.seek) || 0;
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
      box.scrollIntoView({block: "nearest"});
    });
  });
})();
