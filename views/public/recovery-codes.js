/*
 * The recovery codes page (views/_recovery-codes.ejs): Copy puts the codes on the clipboard,
 * one a line; Print prints the page (its print style shows the codes only). Both stay hidden
 * without this script or the browser features they need; the Download link needs neither.
 * Served from /assets (the CSP allows scripts from 'self' only, never inline).
 */
(function () {
  'use strict';

  var list = document.querySelector('[data-recovery-codes]');
  if (!list) return;
  var codes = Array.prototype.map.call(list.querySelectorAll('[data-recovery-code]'), function (el) { return el.textContent.trim(); });
  var status = document.querySelector('[data-recovery-copied]');
  var copy = document.querySelector('[data-recovery-copy]');
  var print = document.querySelector('[data-recovery-print]');

  if (copy && navigator.clipboard && window.isSecureContext) {
    copy.hidden = false;
    copy.addEventListener('click', function () {
      navigator.clipboard.writeText(codes.join('\n') + '\n').then(
        function () { status.textContent = status.dataset.done; },
        function () { status.textContent = status.dataset.failed; });
    });
  }
  if (print && typeof window.print === 'function') {
    print.hidden = false;
    print.addEventListener('click', function () { window.print(); });
  }
})();
