/*
 * The resend cooldown's line of the code pages (views/_resend-wait.ejs): counts the seconds the
 * server rendered down to 0, then hides the line. The page is right without it: the server
 * renders the seconds left on each visit and answers an early resend with 429 and the wait.
 * Served from /assets (the CSP allows scripts from 'self' only, never inline).
 */
(function () {
  'use strict';

  Array.prototype.forEach.call(document.querySelectorAll('[data-resend-wait]'), function (line) {
    var number = line.querySelector('[data-countdown]');
    var seconds = Number(line.getAttribute('data-resend-wait'));
    if (!number || !(seconds > 0)) return;
    // From a deadline, not by counting ticks: a background tab's timers run late.
    var deadline = Date.now() + seconds * 1000;
    var timer = setInterval(function () {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left > 0) {
        number.textContent = String(left);
        return;
      }
      clearInterval(timer);
      line.hidden = true;
    }, 1000);
  });
})();
