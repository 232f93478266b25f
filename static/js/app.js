/*
 * advocacy: the little the pages need from JavaScript.  Plain ES2017, no
 * framework, no inline handlers (the CSP allows scripts from this app only).
 * Every page works without it; this file only makes things quicker or safer.
 *
 * 1. Session timer: warns before the idle timeout signs the person out.
 * 2. Language switcher: applies a choice at once.
 * 3. Boards (beds, network) refresh themselves without a full reload.
 * 4. Intake drafts save themselves while the person types and just before
 *    the session times out.
 * 5. Marks the page as having JavaScript.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  /* -----------------------------------------------------------------------
   * 1. Session timer.
   *
   * The server signs a person out after data-idle-timeout seconds without a
   * request (security.enforce_idle_timeout).  Only page loads and the
   * keepalive reset that clock, so the countdown here starts at page load and
   * restarts only when the keepalive succeeds; typing or clicking on the page
   * does not reset it, because it does not reset the server's clock either.
   * Time is measured with Date.now(), so a laptop that slept still signs out.
   * --------------------------------------------------------------------- */
  function startSessionTimer() {
    var body = document.body;
    var timeout = parseInt(body.getAttribute("data-idle-timeout"), 10);
    var warning = parseInt(body.getAttribute("data-idle-warning"), 10);
    var keepaliveUrl = body.getAttribute("data-keepalive-url");
    var timeoutUrl = body.getAttribute("data-timeout-url");
    var box = document.getElementById("timeout-warning");
    var seconds = document.getElementById("timeout-seconds");
    var stay = document.getElementById("stay-signed-in");
    if (!(timeout > 0) || !timeoutUrl || !box || !stay) {
      return;
    }
    if (!(warning >= 0)) {
      warning = 0;
    }
    warning = Math.min(warning, timeout);

    // Navigating a moment after the server's deadline, never before it:
    // arriving early would count as activity and keep the session open.
    var GRACE_MS = 1000;
    // A draft's last save starts this many seconds before the deadline.
    var ENDING_SECONDS = 8;
    var deadline = 0;
    var timer = null;
    var leaving = false;
    var returnFocusTo = null;
    var channel = null;
    var busy = false;

    function restart(fromMs) {
      if (deadline) {
        document.dispatchEvent(new window.CustomEvent("advocacy:session-renewed"));
      }
      deadline = fromMs + timeout * 1000;
      hideWarning();
      tick();
    }

    function remainingSeconds() {
      return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    }

    // Tells the page (an intake draft, say) to save now: the server still
    // accepts a background request until the deadline, and never after.
    var endingAnnouncedFor = 0;
    function announceEnding() {
      if (endingAnnouncedFor === deadline) {
        return;
      }
      endingAnnouncedFor = deadline;
      document.dispatchEvent(new window.CustomEvent("advocacy:session-ending"));
    }

    function showWarning() {
      if (!box.hidden) {
        return;
      }
      returnFocusTo = document.activeElement;
      box.hidden = false;
      stay.focus();
    }

    function hideWarning() {
      if (box.hidden) {
        return;
      }
      var active = document.activeElement;
      var hadFocus = !active || active === document.body || box.contains(active);
      box.hidden = true;
      if (hadFocus && returnFocusTo && document.contains(returnFocusTo) && returnFocusTo.focus) {
        returnFocusTo.focus();
      }
      returnFocusTo = null;
    }

    function leave() {
      if (leaving) {
        return;
      }
      leaving = true;
      window.clearTimeout(timer);
      window.location.assign(timeoutUrl);
    }

    function tick() {
      window.clearTimeout(timer);
      if (leaving) {
        return;
      }
      var now = Date.now();
      if (now >= deadline + GRACE_MS) {
        leave();
        return;
      }
      var left = remainingSeconds();
      if (left <= ENDING_SECONDS) {
        announceEnding();
      }
      if (left <= warning) {
        if (seconds) {
          seconds.textContent = String(left);
        }
        showWarning();
      } else {
        hideWarning();
      }
      // Wake up on the next whole second of the countdown.
      var untilNextSecond = ((deadline - now) % 1000) || 1000;
      timer = window.setTimeout(tick, Math.max(50, Math.min(1000, untilNextSecond + 20)));
    }

    function stayFailed() {
      // The session is gone (expired, ended elsewhere, or the token is stale):
      // show the sign-in page rather than a page that no longer works.
      leave();
    }

    function setBusy(value) {
      // aria-disabled rather than disabled: a disabled button would lose focus.
      busy = value;
      if (value) {
        stay.setAttribute("aria-disabled", "true");
      } else {
        stay.removeAttribute("aria-disabled");
      }
    }

    function keepAlive() {
      if (busy) {
        return;
      }
      var meta = document.querySelector('meta[name="csrf-token"]');
      setBusy(true);
      window
        .fetch(keepaliveUrl, {
          method: "POST",
          mode: "same-origin",
          credentials: "same-origin",
          cache: "no-store",
          redirect: "manual",
          headers: {
            Accept: "application/json",
            "X-CSRFToken": meta ? meta.getAttribute("content") : "",
          },
        })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("application/json") === -1) {
            throw new Error("keepalive refused");
          }
          return response.json();
        })
        .then(function (data) {
          if (data && data.idle_timeout > 0) {
            timeout = data.idle_timeout;
            warning = Math.min(warning, timeout);
          }
          setBusy(false);
          // The server's clock restarted when it received the request, a
          // little before now: counting from now never runs out before it.
          var answeredAt = Date.now();
          restart(answeredAt);
          if (channel) {
            channel.postMessage({ activity: answeredAt });
          }
        })
        .catch(function () {
          setBusy(false);
          if (navigator.onLine === false) {
            return; // offline: keep counting down; the person can try again.
          }
          stayFailed();
        });
    }

    stay.addEventListener("click", keepAlive);

    // Activity in another tab of this app resets the same server clock.
    // BroadcastChannel keeps nothing on disk (unlike localStorage).
    if (typeof window.BroadcastChannel === "function") {
      channel = new window.BroadcastChannel("advocacy-session");
      channel.addEventListener("message", function (event) {
        var at = event.data && event.data.activity;
        if (typeof at === "number" && at + timeout * 1000 > deadline) {
          restart(Math.min(at, Date.now()));
        }
      });
    }

    // After sleep or a hidden tab, timers run late: check at once.
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) {
        tick();
      }
    });

    var loadedAt = Date.now();
    restart(loadedAt);
    if (channel) {
      channel.postMessage({ activity: loadedAt });
    }
  }

  /* -----------------------------------------------------------------------
   * 2. Language switcher: a choice made with the mouse or touch applies at
   * once.  With the keyboard, arrow keys only move through the list (WCAG
   * 3.2.2): Enter applies the choice, and the "Change language" button
   * appears when it receives focus.  Without JavaScript the button is shown.
   * --------------------------------------------------------------------- */
  function startLanguageSwitcher() {
    var form = document.getElementById("language-form");
    var select = document.getElementById("language-select");
    if (!form || !select) {
      return;
    }
    var initial = select.value;
    var keyboardChange = false;
    form.classList.add("app-language--auto");

    function submit() {
      if (select.value === initial) {
        return;
      }
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit();
      } else {
        form.submit();
      }
    }

    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        submit();
        return;
      }
      keyboardChange = true;
      window.setTimeout(function () {
        keyboardChange = false;
      }, 0);
    });
    select.addEventListener("change", function () {
      if (!keyboardChange) {
        submit();
      }
    });
  }

  /* -----------------------------------------------------------------------
   * 3. Board polling.  An element with data-poll-url asks every
   * data-poll-seconds whether it changed, sending the ETag it has
   * (If-None-Match): an unchanged board is a 304 with no body, which costs
   * the server two small queries.  Polls send the background header, so they
   * never keep an idle session alive.  When the person is in the middle of
   * something on the board (a ticked bed, a typed number, focus inside), the
   * board is not swapped under their hands: a notice offers the new board.
   * The page works without this; a reload shows the same.
   * --------------------------------------------------------------------- */
  function startBoardPolling() {
    var board = document.querySelector("[data-poll-url]");
    if (!board || typeof window.fetch !== "function") {
      return;
    }
    var url = board.getAttribute("data-poll-url");
    var every = parseInt(board.getAttribute("data-poll-seconds"), 10) || 30;
    var status = document.getElementById("board-status");
    // "<content>.<minute>" (see service.board_etag): the page's own version.
    var etag = board.getAttribute("data-etag") || null;
    var pending = null;
    var stopped = false;
    var notice = null;
    var dirty = false;

    board.addEventListener("input", function () {
      dirty = true;
    });
    board.addEventListener("change", function () {
      dirty = true;
    });

    function busy() {
      return dirty || board.contains(document.activeElement) || board.querySelector("input:checked");
    }

    function announce(text) {
      if (status) {
        status.textContent = "";
        window.setTimeout(function () {
          status.textContent = text;
        }, 50);
      }
    }

    function swap(html) {
      board.innerHTML = html;
      dirty = false;
      pending = null;
      if (notice) {
        notice.remove();
        notice = null;
      }
      announce(board.getAttribute("data-updated-text") || "");
    }

    function offer(html) {
      pending = html;
      if (notice) {
        return;
      }
      notice = document.createElement("div");
      notice.className = "usa-alert usa-alert--info usa-alert--slim app-board-notice";
      var body = document.createElement("div");
      body.className = "usa-alert__body";
      var text = document.createElement("p");
      text.className = "usa-alert__text";
      text.textContent = board.getAttribute("data-changed-text") || "";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "usa-button usa-button--unstyled";
      button.textContent = board.getAttribute("data-reload-text") || "";
      button.addEventListener("click", function () {
        if (pending !== null) {
          swap(pending);
        }
        board.focus();
      });
      text.appendChild(document.createTextNode(" "));
      text.appendChild(button);
      body.appendChild(text);
      notice.appendChild(body);
      board.parentNode.insertBefore(notice, board);
      board.setAttribute("tabindex", "-1");
      announce(text.textContent);
    }

    function content(tag) {
      return (tag || "").split(".")[0];
    }

    function poll() {
      if (stopped || document.hidden) {
        return;
      }
      var headers = { "X-Advocacy-Background": "1", Accept: "text/html" };
      if (etag) {
        headers["If-None-Match"] = '"' + etag + '"';
      }
      window
        .fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "manual", headers: headers })
        .then(function (response) {
          if (response.status === 304) {
            return null;
          }
          if (response.status === 401 || response.type === "opaqueredirect") {
            stopped = true; // signed out: the session timer takes the page to sign-in
            return null;
          }
          if (!response.ok) {
            return null;
          }
          var fresh = (response.headers.get("ETag") || "").replace(/"/g, "");
          var onlyTime = etag !== null && content(fresh) === content(etag);
          if (onlyTime && busy()) {
            return null; // only "N minutes ago" moved on: not worth interrupting anyone
          }
          etag = fresh;
          return response.text().then(function (html) {
            if (busy()) {
              offer(html);
            } else {
              swap(html);
            }
          });
        })
        .catch(function () {
          /* offline or a passing error: try again next time */
        });
    }

    poll();
    window.setInterval(poll, every * 1000);
    document.addEventListener("visibilitychange", poll);
  }

  /* -----------------------------------------------------------------------
   * 4. Intake autosave.  A form with data-autosave-url sends its fields
   * there a few seconds after the person stops typing, when the session is
   * about to end, and when the page is left without submitting.  It sends
   * the background header, so saving never counts as activity: an idle
   * session still ends on time, and the draft holds what was typed.  The
   * server keeps valid fields only; errors show when a button is pressed.
   * --------------------------------------------------------------------- */
  function startAutosave() {
    var form = document.querySelector("form[data-autosave-url]");
    if (!form || typeof window.fetch !== "function" || typeof window.FormData !== "function") {
      return;
    }
    var url = form.getAttribute("data-autosave-url");
    var step = form.getAttribute("data-autosave-step");
    var status = form.querySelector("[data-autosave-status]");
    var DELAY_MS = 3000;
    var timer = null;
    var dirty = false;
    var inflight = false;
    var submitting = false;

    function say(attribute) {
      if (status && status.getAttribute(attribute)) {
        status.textContent = status.getAttribute(attribute);
      }
    }

    function save(leaving) {
      window.clearTimeout(timer);
      if (!dirty || submitting || (inflight && !leaving)) {
        return;
      }
      var data = new window.FormData(form);
      data.delete("action");
      data.set("step", step);
      dirty = false;
      inflight = true;
      window
        .fetch(url, {
          method: "POST",
          body: data,
          mode: "same-origin",
          credentials: "same-origin",
          cache: "no-store",
          redirect: "manual",
          keepalive: !!leaving,
          headers: { "X-Advocacy-Background": "1", Accept: "application/json" },
        })
        .then(function (response) {
          inflight = false;
          if (!response.ok) {
            throw new Error("not saved");
          }
          say("data-saved-text");
          // A change typed while this save was on its way was skipped by
          // save() (one save at a time): send it now rather than never.
          if (dirty) {
            changed();
          }
        })
        .catch(function () {
          inflight = false;
          dirty = true;
          say("data-failed-text");
        });
    }

    // Once the session is about to end, every change is saved at once:
    // a pause of DELAY_MS could fall after the deadline.
    var urgent = false;

    function changed() {
      dirty = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(save, urgent ? 0 : DELAY_MS);
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", function () {
      submitting = true;
      window.clearTimeout(timer);
    });
    document.addEventListener("advocacy:session-ending", function () {
      urgent = true;
      save(true);
    });
    document.addEventListener("advocacy:session-renewed", function () {
      urgent = false;
    });
    window.addEventListener("pagehide", function () {
      save(true);
    });
  }

  /* A form with data-confirm asks before it is sent (deleting a draft, say). */
  function startConfirmations() {
    var forms = document.querySelectorAll("form[data-confirm]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  function start() {
    startLanguageSwitcher();
    startBoardPolling();
    startAutosave();
    startConfirmations();
    if (document.body && document.body.hasAttribute("data-idle-timeout")) {
      startSessionTimer();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
