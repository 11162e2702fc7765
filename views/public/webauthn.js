/*
 * Gatehouse's WebAuthn ceremonies, on top of @simplewebauthn/browser's UMD bundle
 * (/assets/simplewebauthn-browser.js, the global SimpleWebAuthnBrowser). Each page marks a
 * block with data-webauthn="passkey" | "second-factor" | "register" and the endpoints in
 * data-options / data-verify; the block stays hidden where WebAuthn is not available, so
 * the page's forms work as before without it.
 */
(function () {
  'use strict';

  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;

  /**
   * The page's words in its language (views/_webauthn-messages.ejs: data-cancelled,
   * data-already-registered, data-failed, data-request-failed); English when absent.
   */
  var words = (document.querySelector('[data-webauthn-messages]') || { dataset: {} }).dataset;
  var text = {
    cancelled: words.cancelled || 'The request was cancelled or timed out. Try again.',
    alreadyRegistered: words.alreadyRegistered || 'This passkey or security key is already registered.',
    failed: words.failed || 'Something went wrong. Try again.',
    requestFailed: words.requestFailed || 'The request failed. Try again.',
  };

  /** The page's CSRF token, sent as a header with every call. */
  function csrfToken() {
    var input = document.querySelector('input[name="csrf"]');
    return input ? input.value : '';
  }

  /** POSTs JSON; resolves with the JSON answer, rejects with the server's error_description. */
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (res.ok) return json;
        var error = new Error(json.error_description || text.requestFailed + ' (' + res.status + ')');
        error.code = json.error;
        error.fromServer = true;
        throw error;
      });
    });
  }

  function showError(block, message) {
    var line = block.querySelector('[data-webauthn-error]');
    if (!line) return;
    line.textContent = message;
    line.hidden = false;
  }

  function clearError(block) {
    var line = block.querySelector('[data-webauthn-error]');
    if (line) line.hidden = true;
  }

  /** The browser's own refusals, in words; a cancelled or aborted ceremony shows nothing. */
  function describe(error) {
    var name = error && (error.name || '');
    if (name === 'AbortError') return '';
    if (name === 'NotAllowedError') return text.cancelled;
    if (name === 'InvalidStateError') return text.alreadyRegistered;
    // The server's messages are in the page's language; the browser's own are not shown raw.
    return (error && error.fromServer && error.message) || text.failed;
  }

  function fail(block, error) {
    if (error && error.code === 'reauthentication_required') {
      // The page names the sign-in URL: it knows the issuer's path prefix, this file does not.
      window.location.assign(block.dataset.reauth);
      return;
    }
    var message = describe(error);
    if (message) showError(block, message);
  }

  function busy(block, on) {
    block.querySelectorAll('button').forEach(function (button) { button.disabled = on; });
  }

  /** Options → authenticator → verify → the URL the server sends us on to. */
  function authenticate(block, autofill) {
    return post(block.dataset.options)
      .then(function (options) {
        return lib.startAuthentication({ optionsJSON: options, useBrowserAutofill: autofill });
      })
      .then(function (response) {
        busy(block, true);
        // "Keep me signed in" on the sign-in page applies to a passkey sign-in as well.
        var remember = document.querySelector('input[data-remember]');
        return post(block.dataset.verify, remember ? { response: response, remember: remember.checked } : { response: response });
      })
      .then(function (result) { window.location.assign(result.redirectTo); });
  }

  function register(block, kind) {
    var label = block.querySelector('[data-webauthn-label]');
    // "Sign out my other devices" beside the buttons (views/account/_sign-out-others.ejs).
    var signOutOthers = block.querySelector('input[data-sign-out-others]');
    return post(block.dataset.options, { kind: kind })
      .then(function (options) { return lib.startRegistration({ optionsJSON: options }); })
      .then(function (response) {
        busy(block, true);
        return post(block.dataset.verify, { response: response, label: label ? label.value : '', sign_out_others: signOutOthers ? signOutOthers.checked : false });
      })
      .then(function (result) { window.location.assign(result.redirectTo); });
  }

  document.querySelectorAll('[data-webauthn]').forEach(function (block) {
    var mode = block.dataset.webauthn;
    block.hidden = false;
    block.querySelectorAll('[data-webauthn-start]').forEach(function (button) {
      button.addEventListener('click', function () {
        clearError(block);
        var run = mode === 'register' ? register(block, button.dataset.kind) : authenticate(block, false);
        run.catch(function (error) {
          busy(block, false);
          fail(block, error);
        });
      });
    });

    // Conditional UI: the browser lists this site's passkeys in the email field's autofill.
    // A button press starts a new ceremony, which aborts this one (WebAuthnAbortService).
    if (mode === 'passkey') {
      lib.browserSupportsWebAuthnAutofill().then(function (supported) {
        if (!supported) return;
        // The user did not ask for this one: the browser's failures are logged, not shown;
        // the server's answer to a passkey the user picked is shown.
        authenticate(block, true).catch(function (error) {
          busy(block, false);
          if (error && error.fromServer) fail(block, error);
          else if (window.console) window.console.info('passkey autofill unavailable:', error && error.message);
        });
      });
    }
  });
}());
