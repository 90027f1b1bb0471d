/*
 * Réciproque live page: the websocket, sequence numbers, resync, the offline
 * queue of writes, the shared timer and small page behaviours.
 *
 * Protocol (docs/protocol.md): the server pushes {seq, html} frames in order;
 * the page applies them in sequence, buffers what arrives early, and says
 * "hello" with the last number it saw whenever it (re)connects or sees a gap.
 * User text arrives only inside server-escaped HTML, and text this script
 * shows itself is set with textContent, never innerHTML.
 */
(function () {
  'use strict';

  var body = document.body;

  function text(key, fallback) {
    return body.dataset['t' + key] || fallback || '';
  }

  function toast(message, kind) {
    var el = document.getElementById('toast');
    if (!el) return;
    el.textContent = message;
    el.className = 'toast-msg is-shown' + (kind ? ' is-' + kind : '');
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.className = 'toast-msg'; }, 5000);
  }

  function newOpId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // A form that arrived in a push is the same HTML on every page, op id
  // included: the page gives it its own id (the server's is for no-JS use). The
  // id stays with the form until the server answers 2xx: a second tap while it
  // sends, or a retry after a network failure (the first may have been applied,
  // its answer lost), carries the same id, and the server applies it once. The
  // next submit of a form still on the page is a new change: a new id.
  var formOps = new WeakMap();
  document.addEventListener('htmx:configRequest', function (event) {
    var params = event.detail.parameters;
    if (params && typeof params.get === 'function' ? params.has('op_id') : params && 'op_id' in params) {
      var elt = event.detail.elt;
      var op = elt && formOps.get(elt);
      if (!op) { op = newOpId(); if (elt) formOps.set(elt, op); }
      if (typeof params.set === 'function') params.set('op_id', op); else params.op_id = op;
    }
  });
  // While a form sends, its buttons are off: a double tap sends once.
  document.addEventListener('htmx:beforeRequest', function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.tagName !== 'FORM') return;
    elt.querySelectorAll('button:not([disabled])').forEach(function (button) {
      button.disabled = true;
      button.dataset.sending = '1';
    });
  });
  document.addEventListener('htmx:afterRequest', function (event) {
    var elt = event.detail.elt;
    if (!elt) return;
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 200 && xhr.status < 300) formOps.delete(elt);
    if (elt.tagName !== 'FORM') return;
    elt.querySelectorAll('button[data-sending]').forEach(function (button) {
      button.disabled = false;
      delete button.dataset.sending;
    });
  });

  // Errors from ordinary htmx requests (facilitator controls, edits).
  document.addEventListener('htmx:sendError', function () {
    toast(text('Offline', 'Offline'), 'error');
  });
  // An element that loads its own content (a phone's ballot, its journey panel) must
  // not stay on "Loading…" because one request failed: it asks again while it is on
  // the page (tests/sync_fuzz models the same).
  function retryLoad(event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!elt || elt.getAttribute('hx-trigger') !== 'load' || !elt.getAttribute('hx-get')) return;
    if (xhr && xhr.status > 0 && xhr.status < 500) return;
    var tries = (parseInt(elt.dataset.loadTries, 10) || 0) + 1;
    elt.dataset.loadTries = tries;
    setTimeout(function () {
      if (!elt.isConnected) return;
      var target = elt.getAttribute('hx-target');
      htmx.ajax('GET', elt.getAttribute('hx-get'), {
        source: elt,
        target: target ? document.querySelector(target) : elt,
        swap: elt.getAttribute('hx-swap') || 'innerHTML'
      });
    }, Math.min(30000, 500 * Math.pow(2, Math.min(tries, 6))) * (0.5 + Math.random()));
  }
  document.addEventListener('htmx:sendError', retryLoad);
  document.addEventListener('htmx:responseError', retryLoad);
  document.addEventListener('htmx:afterSwap', function (event) {
    var t = document.getElementById('toast');
    if (t && t.textContent.trim() && event.detail.target === t) t.classList.add('is-shown');
  });
  document.addEventListener('htmx:oobAfterSwap', function (event) {
    if (event.detail.target && event.detail.target.id === 'toast') {
      var t = document.getElementById('toast');
      if (t) {
        t.classList.add('is-shown');
        clearTimeout(toast.timer);
        toast.timer = setTimeout(function () { t.className = 'toast-msg'; }, 6000);
      }
    }
  });

  // The stage editor (not a live page): a kind's own settings show only while it is picked.

  function followKind() {
    var select = document.querySelector('select[name=kind]');
    if (!select) return;
    document.querySelectorAll('[data-stage-kinds]').forEach(function (el) {
      el.hidden = el.dataset.stageKinds.split(' ').indexOf(select.value) < 0;
    });
  }
  document.addEventListener('change', function (event) {
    if (event.target.matches && event.target.matches('select[name=kind]')) followKind();
  });
  followKind();

  if (!body.dataset.ws) return; // not a live page

  var workshop = body.dataset.workshop;
  var last = parseInt(body.dataset.seq, 10) || 0;
  var early = new Map();            // seq -> frame that arrived before its turn
  var own = new Set(JSON.parse(body.dataset.own || '[]'));
  var socket = null;
  var retries = 0;
  var removed = false;
  var clockOffset = 0;              // server clock minus ours, in ms
  var gapTimer = null;
  var pingTimer = null;
  var deadTimer = null;
  var reconnectTimer = null;
  var catchUp = null;               // {count} while catching up after a drop
  var everConnected = false;

  // Connection state --------------------------------------------------------

  function setConnection(state) {
    var el = document.getElementById('conn');
    if (!el) return;
    el.className = el.className.replace(/\bis-\S+/g, '').trim() + ' is-' + state;
    var label = el.querySelector('.conn-label');
    var words = {
      connected: text('Connected', 'Connected'),
      reconnecting: text('Reconnecting', 'Reconnecting…'),
      offline: text('Offline', 'Offline')
    };
    if (label) label.textContent = words[state] || state;
    body.dataset.connection = state;
    saveQueue(loadQueue());
    presenceFollows(state);
  }

  // Presence is only as good as this console's socket ------------------------------
  // While the socket is down, the last counts may be false: "?" until a poll made
  // with the socket back up redraws the region (console.html#presence).

  function presenceFollows(state) {
    var el = document.getElementById('presence');
    if (!el) return;
    if (state !== 'connected') el.classList.add('is-unconfirmed');
    else if (el.classList.contains('is-unconfirmed') && window.htmx) htmx.trigger(el, 'rq-refresh');
  }
  document.addEventListener('htmx:afterSettle', function () {
    var el = document.getElementById('presence');
    if (el && body.dataset.connection !== 'connected') el.classList.add('is-unconfirmed');
  });
  // No polling into an outage: it could only fail (an "Offline" toast every 3 s) or
  // bring counts the socket cannot back. The reconnect asks again (rq-refresh).
  document.addEventListener('htmx:beforeRequest', function (event) {
    var el = event.detail && event.detail.elt;
    if (el && (el.id === 'presence' || el.id === 'reclaim-asks') && body.dataset.connection !== 'connected') event.preventDefault();
  });

  function socketUrl() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + body.dataset.ws;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function hello() {
    send({ type: 'hello', last_seq: last });
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (removed) return;
    var ws = new WebSocket(socketUrl());
    socket = ws;
    ws.onopen = function () {
      if (socket !== ws) return;
      retries = 0;
      var note = document.getElementById('access-note');
      if (note) note.remove();
      if (everConnected) catchUp = { count: 0 };
      everConnected = true;
      setConnection('connected');
      hello();
      startPing();
      flushQueue();
    };
    ws.onmessage = function (event) {
      if (socket !== ws) return;
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      alive();
      handle(message);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      socket = null;
      stopPing();
      if (event.code === 4001 || removed) { showRemoved(); return; }
      if (event.code === 4403) { showRefusedAccess(); scheduleReconnect(30000); return; }
      setConnection(navigator.onLine === false ? 'offline' : 'reconnecting');
      scheduleReconnect(event.code === 4403 ? 15000 : 0);
    };
  }

  function scheduleReconnect(floor) {
    // Full jitter, so that a room of phones does not come back in one stampede.
    var ceiling = Math.min(30000, 1000 * Math.pow(2, Math.min(retries, 5)));
    var delay = Math.max(floor || 0, 250 + Math.random() * ceiling);
    retries += 1;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    var old = socket;
    socket = null;
    stopPing();
    if (old) { try { old.close(); } catch (e) { /* already gone */ } }
    setConnection(navigator.onLine === false ? 'offline' : 'reconnecting');
    connect();
  }

  // A socket can die silently (sleeping laptop, lost Wi-Fi): ping, and give up on silence.
  function startPing() {
    stopPing();
    pingTimer = setInterval(function () {
      send({ type: 'ping' });
      clearTimeout(deadTimer);
      deadTimer = setTimeout(reconnectNow, 10000);
    }, 15000);
  }
  function stopPing() { clearInterval(pingTimer); clearTimeout(deadTimer); }
  function alive() { clearTimeout(deadTimer); }

  window.addEventListener('online', function () {
    retries = 0;
    // A socket that outlived the drop may be dead, and was left saying "offline": start afresh.
    if (socket) reconnectNow(); else connect();
    flushQueue();
  });
  window.addEventListener('offline', function () { setConnection('offline'); });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible') return;
    if (!socket || socket.readyState > WebSocket.OPEN) { retries = 0; connect(); } else { hello(); }
    flushQueue();
  });

  // Frames --------------------------------------------------------------------

  function handle(message) {
    if (typeof message.now === 'number') clockOffset = message.now - Date.now();
    switch (message.type) {
      case 'pong': return;
      case 'synced':
        if (message.seq > last) { hello(); return; }
        dropEarly();
        finishCatchUp();
        return;
      case 'snapshot':
        own = new Set(message.own || []);
        applyOrRecover(message.html, true);
        last = message.seq;
        dropEarly();
        drain();
        finishCatchUp(true);
        return;
      case 'resync': hello(); return;
      case 'removed': removed = true; showRemoved(); return;
      case 'error': return;
    }
    if (typeof message.seq !== 'number' || message.seq <= last) return;
    early.set(message.seq, message);
    drain();
    if (early.size && !gapTimer) {
      // Something is missing: wait a moment for it, then ask for it.
      gapTimer = setTimeout(function () {
        gapTimer = null;
        if (early.size) hello();
      }, 1000);
    }
  }

  function drain() {
    while (early.has(last + 1)) {
      var message = early.get(last + 1);
      early.delete(last + 1);
      // A stage change says all of the new stage's own ids: ids of other stages' objects
      // (another type, the same numbers) must not stay marked as one's own.
      if (message.whole) own = new Set();
      if (message.own) message.own.forEach(function (id) { own.add(id); });
      if (message.html) applyOrRecover(message.html, false);
      last = message.seq;
      if (catchUp) catchUp.count += 1;
    }
    if (!early.size && gapTimer) { clearTimeout(gapTimer); gapTimer = null; }
  }

  function dropEarly() {
    early.forEach(function (_, seq) { if (seq <= last) early.delete(seq); });
    drain();
  }

  function finishCatchUp(snapshot) {
    if (!catchUp) return;
    var count = catchUp.count;
    catchUp = null;
    if (snapshot || count > 0) {
      var caughtUp = count === 1 ? text('CaughtUpOne', '1') : text('CaughtUp', '%(count)s').replace('%(count)s', count);
      toast(snapshot ? text('Refreshed', 'Back online') : caughtUp, 'info');
    } else {
      // Back, and nothing was missed: an "Offline" notice left over is wrong now.
      var t = document.getElementById('toast');
      if (t && t.classList.contains('is-error') && t.textContent === text('Offline', 'Offline')) {
        t.className = 'toast-msg';
      }
    }
  }

  function apply(html) {
    htmx.swap(document.body, html, { swapStyle: 'none' });
    afterChange();
  }

  // A frame this page cannot apply (htmx throws, e.g. on a target that is not
  // a valid selector) must not stop the page: thrown out of drain(), it left
  // `last` behind, every later frame waiting for it, and each replay throwing
  // again. It counts as seen, and a snapshot (hello with -1) redraws the page
  // from the server's state. A snapshot that fails asks for nothing more: the
  // next frame that redraws a region brings the page back.
  function applyOrRecover(html, isSnapshot) {
    try {
      apply(html);
    } catch (error) {
      if (window.console) console.warn('Réciproque: a pushed frame could not be applied', error);
      if (!isSnapshot) send({ type: 'hello', last_seq: -1 });
    }
  }

  // An added post-it replaces any copy already on the page (a replay, the
  // author's own response) and the "not sent yet" placeholder it stands for.
  document.addEventListener('htmx:oobBeforeSwap', function (event) {
    var fragment = event.detail.fragment;
    if (!fragment || !fragment.children) return;
    Array.prototype.forEach.call(fragment.children, function (child) {
      if (child.id) {
        var existing = document.getElementById(child.id);
        if (existing && existing !== event.detail.target) existing.remove();
      }
      if (child.dataset && child.dataset.op) removePending(child.dataset.op);
    });
  });

  // A reply says which event it shows (X-Seq). If the page has already applied
  // that event's push, and maybe later ones (the facilitator moved or deleted
  // the post-it meanwhile), the slow reply would put an older state back.
  function stale(seqHeader) {
    var seq = parseInt(seqHeader, 10);
    return seq > 0 && seq <= last;
  }
  document.addEventListener('htmx:beforeSwap', function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader && stale(xhr.getResponseHeader('X-Seq'))) {
      event.detail.shouldSwap = false;
    }
  });

  document.addEventListener('htmx:afterRequest', function (event) {
    var xhr = event.detail.xhr;
    var header = xhr && xhr.getResponseHeader && xhr.getResponseHeader('X-Own');
    if (header) header.split(',').forEach(function (id) { own.add(parseInt(id, 10)); });
  });
  document.addEventListener('htmx:afterSettle', function () { afterChange(); });

  // A pushed post-it is appended (beforeend) to its column or theme, but the server
  // draws each in the order they were written (created_at, pk): one moved back from a
  // theme, or one whose author's reply came before an earlier push, would sit out of
  // place until the next redraw. Put it where the server puts it, by its id; only the
  // post-its out of place move (a moved node loses focus), pending cards stay put.
  function postitKey(el) {
    var found = /^postit-(\d+)$/.exec(el.id || '');
    return found ? parseInt(found[1], 10) : null;
  }
  function orderPostits() {
    document.querySelectorAll('.postits').forEach(function (container) {
      var placed = [];  // the keyed children seen so far, in key order
      Array.prototype.slice.call(container.children).forEach(function (el) {
        var key = postitKey(el);
        if (key === null) return;
        var at = placed.length;
        while (at > 0 && placed[at - 1].key > key) at -= 1;
        if (at < placed.length) container.insertBefore(el, placed[at].el);
        placed.splice(at, 0, { key: key, el: el });
      });
    });
  }

  function afterChange() {
    orderPostits();
    document.querySelectorAll('[data-pid]').forEach(function (el) {
      el.classList.toggle('is-own', own.has(parseInt(el.dataset.pid, 10)));
    });
    restoreDrafts();
    restoreChoices();
    showPendings();
    updateWriting();
    followStage();
  }

  // The phone keeps up ---------------------------------------------------------------
  // A new stage starts at its top and is said out loud; the sticky bars' heights are
  // kept in CSS variables, so that nothing that has focus hides under them (app.css).

  var shownStage = null;

  function followStage() {
    var live = document.getElementById('live');
    if (!live) return;
    var stage = live.dataset.stage || '';
    if (shownStage === null || stage === shownStage) { shownStage = stage; return; }
    shownStage = stage;
    if (!body.classList.contains('role-participant')) return;
    // Instant: Bootstrap makes the root scroll smoothly, and a glide from the bottom
    // of a long wall would leave the new title off screen for a while.
    window.scrollTo({ top: 0, left: 0, behavior: 'instant' });
    var title = live.querySelector('.stage-title');
    var region = document.getElementById('stage-announce');
    if (region && title) {
      region.textContent = text('NewStage', '%(title)s').replace('%(title)s', title.textContent.trim());
    }
  }

  function measureBars() {
    var root = document.documentElement;
    var bar = document.querySelector('.livebar');
    var status = document.querySelector('.role-participant .stage-status');
    var foot = document.querySelector('.livefoot');
    var barHeight = bar ? bar.offsetHeight : 0;
    root.style.setProperty('--bar-h', barHeight + 'px');
    root.style.setProperty('--head-h', barHeight + (status ? status.offsetHeight : 0) + 'px');
    // A footer that no longer floats (narrow or low screens, app.css) hides nothing.
    var floating = foot && getComputedStyle(foot).position === 'fixed';
    root.style.setProperty('--foot-h', (floating ? foot.offsetHeight : 0) + 'px');
  }
  if (body.classList.contains('role-participant')) {
    if (window.ResizeObserver) {
      var barWatch = new ResizeObserver(measureBars);
      ['.livebar', '.livefoot'].forEach(function (selector) {
        var el = document.querySelector(selector);
        if (el) barWatch.observe(el);
      });
      // The status bar is redrawn with the stage: watch whichever is there now.
      document.addEventListener('htmx:afterSettle', function () {
        var status = document.querySelector('.stage-status');
        if (status) barWatch.observe(status);
        measureBars();
      });
      var firstStatus = document.querySelector('.stage-status');
      if (firstStatus) barWatch.observe(firstStatus);
    }
    window.addEventListener('resize', measureBars);
    measureBars();
    // The browser only scrolls a focused element it thinks is hidden; one half under
    // the footer counts as shown. Bring it wholly clear (scroll-padding sets the margins).
    document.addEventListener('focusin', function (event) {
      var el = event.target;
      requestAnimationFrame(function () {
        if (document.activeElement !== el || el.closest('.livebar, .livefoot, .stage-status')) return;
        var rect = el.getBoundingClientRect();
        var foot = document.querySelector('.livefoot');
        var bottom = foot ? foot.getBoundingClientRect().top : window.innerHeight;
        var top = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--head-h')) || 0;
        if (rect.bottom > bottom || rect.top < top) el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      });
    });
  }

  // "Less than a minute left", said once per run of the timer, not every second.
  var timerPhase = null;

  function timerNotice(seconds) {
    var phase = seconds === null ? null : seconds <= 0 ? 'up' : seconds <= 60 ? 'ending' : 'plenty';
    if (phase === timerPhase) return;
    timerPhase = phase;
    var region = document.getElementById('timer-announce');
    if (!region) return;
    if (phase === 'ending') region.textContent = text('LastMinute', 'Less than a minute left');
    else if (phase === 'up') region.textContent = text('TimeUp', 'Time is up');
    else region.textContent = '';
  }

  // The server no longer knows this page (session gone, logged out, workshop
  // deleted): say so, and keep trying slowly in case it was a glitch.
  function showRefusedAccess() {
    setConnection('offline');
    if (document.getElementById('access-note')) return;
    var note = document.createElement('div');
    note.id = 'access-note';
    note.className = 'removed-note';
    note.setAttribute('role', 'alert');
    note.textContent = text('Refused', 'Reload');
    (document.querySelector('.live-main') || document.body).prepend(note);
  }

  function showRemoved() {
    removed = true;
    stopPing();
    setConnection('offline');
    var main = document.querySelector('.live-main') || document.body;
    var note = document.createElement('div');
    note.className = 'removed-note';
    note.setAttribute('role', 'alert');
    note.textContent = text('Removed', 'Removed');
    main.replaceChildren(note);
  }

  // The offline queue of writes ------------------------------------------------

  var queueKey = 'rq-queue-' + workshop;

  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(queueKey)) || []; } catch (e) { return []; }
  }
  function saveQueue(queue) {
    try { localStorage.setItem(queueKey, JSON.stringify(queue)); } catch (e) { /* private mode */ }
    var status = document.getElementById('queue-status');
    if (status) {
      var line = queue.length ? queue.length + ' ' + text('Queued', 'waiting') : '';
      if (line && body.dataset.connection === 'offline') line = text('Kept', '') + ' · ' + line;
      status.textContent = line;
    }
  }

  function csrfToken() {
    try { return JSON.parse(body.getAttribute('hx-headers'))['X-CSRFToken']; } catch (e) { return ''; }
  }

  document.addEventListener('submit', function (event) {
    var form = event.target.closest && event.target.closest('form[data-queue]');
    if (!form) return;
    event.preventDefault();
    if (body.classList.contains('writing-closed')) return;
    var data = new FormData(form);
    data.delete('csrfmiddlewaretoken');
    var op = newOpId();
    data.set('op_id', op);
    var fields = {};
    data.forEach(function (value, key) { fields[key] = value; });
    if (!String(fields.text || '').trim()) {
      var area = form.querySelector('textarea');
      if (area) area.focus();
      return;
    }
    var target = form.dataset.pending;
    if (target.slice(-1) === '-') target += fields.column || '';
    var queue = loadQueue();
    queue.push({ op: op, url: form.action, fields: fields, target: target, stage: form.dataset.stage });
    saveQueue(queue);
    var textarea = form.querySelector('textarea');
    if (textarea) { textarea.value = ''; saveDraft(textarea); textarea.focus(); }
    var error = form.querySelector('.compose-error');
    if (error) error.textContent = '';
    showPendings();
    flushQueue();
  });

  function showPendings() {
    loadQueue().forEach(function (entry) {
      if (document.getElementById('pending-' + entry.op)) return;
      // Its push came before its answer: the post-it itself is on the page already.
      if (document.querySelector('[data-pid][data-op="' + CSS.escape(entry.op) + '"]')) return;
      var container = document.getElementById(entry.target);
      if (!container) return;
      var card = document.createElement('article');
      card.id = 'pending-' + entry.op;
      card.className = 'postit is-pending';
      var p = document.createElement('p');
      p.className = 'postit-text';
      p.textContent = entry.fields.text;
      var badge = document.createElement('span');
      badge.className = 'pending-badge';
      badge.textContent = '… ' + text('Pending', 'Not sent yet');
      card.append(p, badge);
      container.append(card);
    });
    saveQueue(loadQueue());
  }

  function showRefused(entry, reason) {
    var box = document.getElementById('refused');
    if (!box) {
      box = document.createElement('section');
      box.id = 'refused';
      box.className = 'refused';
      box.setAttribute('role', 'alert');
      (document.querySelector('.live-main') || document.body).prepend(box);
    }
    var card = document.createElement('article');
    card.className = 'postit is-refused';
    var p = document.createElement('p');
    p.className = 'postit-text';
    p.textContent = entry.fields.text;
    var why = document.createElement('p');
    why.className = 'refused-reason';
    why.textContent = reason;
    var back = document.createElement('button');
    back.type = 'button';
    back.className = 'btn btn-sm btn-outline-primary';
    back.textContent = text('PutBack', 'Put back in the box');
    back.addEventListener('click', function () {
      var area = document.querySelector('form[data-queue] textarea');
      if (area) { area.value = (area.value ? area.value + '\n' : '') + entry.fields.text; saveDraft(area); area.focus(); }
      card.remove();
    });
    var dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'btn btn-sm btn-link';
    dismiss.textContent = text('Dismiss', 'Dismiss');
    dismiss.addEventListener('click', function () { card.remove(); });
    card.append(p, why, back, dismiss);
    box.append(card);
  }

  function removePending(op) {
    var el = document.getElementById('pending-' + op);
    if (el) el.remove();
  }

  var flushing = false;
  var flushTimer = null;
  var flushRetries = 0;

  function flushQueue() {
    if (flushing) return;
    var queue = loadQueue();
    if (!queue.length) return;
    flushing = true;
    clearTimeout(flushTimer);
    postEntry(queue[0]).then(function (outcome) {
      flushing = false;
      if (outcome === 'retry') {
        flushRetries += 1;
        flushTimer = setTimeout(flushQueue, Math.min(15000, 500 * Math.pow(2, flushRetries)) * (0.5 + Math.random()));
        return;
      }
      flushRetries = 0;
      var op = queue[0].op;
      saveQueue(loadQueue().filter(function (e) { return e.op !== op; }));
      flushQueue();
    });
  }

  function postEntry(entry) {
    var form = new URLSearchParams();
    Object.keys(entry.fields).forEach(function (k) { form.append(k, entry.fields[k]); });
    // Dead Wi-Fi can hang a request for minutes: give up and retry instead.
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 15000);
    return fetch(entry.url, {
      method: 'POST',
      body: form,
      credentials: 'same-origin',
      signal: controller.signal,
      headers: { 'X-CSRFToken': csrfToken(), 'HX-Request': 'true' }
    }).then(function (response) {
      clearTimeout(timer);
      if (response.status === 429 || response.status >= 500) return 'retry';
      return response.text().then(function (html) {
        if (response.ok) {
          var ownHeader = response.headers.get('X-Own');
          if (ownHeader) ownHeader.split(',').forEach(function (id) { own.add(parseInt(id, 10)); });
          if (html && !stale(response.headers.get('X-Seq'))) apply(html);
          removePending(entry.op);
          return 'ok';
        }
        // Refused (locked, stage closed, too long…): say why, and keep the
        // text on screen until its author puts it back or dismisses it.
        removePending(entry.op);
        if (html) apply(html);
        var reason = document.querySelector('.compose-error');
        showRefused(entry, reason && reason.textContent.trim() ? reason.textContent.trim() : text('Error', 'Error'));
        return 'rejected';
      });
    }, function () { clearTimeout(timer); return 'retry'; });
  }

  // Drafts survive a redraw of the board and a reload ------------------------------

  function draftKey(textarea) { return 'rq-draft-' + workshop + '-' + textarea.id; }
  function saveDraft(textarea) {
    try {
      if (textarea.value) localStorage.setItem(draftKey(textarea), textarea.value);
      else localStorage.removeItem(draftKey(textarea));
    } catch (e) { /* private mode */ }
  }
  function restoreDrafts() {
    document.querySelectorAll('form[data-queue] textarea').forEach(function (area) {
      if (!area.value) {
        try { area.value = localStorage.getItem(draftKey(area)) || ''; } catch (e) { /* ignore */ }
      }
    });
  }
  document.addEventListener('input', function (event) {
    if (event.target.matches && event.target.matches('form[data-queue] textarea')) saveDraft(event.target);
  });

  // Choices made in a compose form (a challenge, a sentence, whom it is about) survive
  // a push that redraws the form, as its text does (hx-preserve): else the next post
  // would go out under the default the redraw put back.
  var choices = {};  // form id -> {control name: {value, checked}}
  document.addEventListener('change', function (event) {
    var el = event.target;
    var form = el.closest && el.closest('form[data-queue]');
    if (!form || !form.id || !el.name || el.tagName === 'TEXTAREA' || el.type === 'text') return;
    var key = el.type === 'checkbox' ? el.name + '=' + el.value : el.name;
    (choices[form.id] = choices[form.id] || {})[key] = { value: el.value, checked: el.checked };
  });
  function restoreChoices() {
    Object.keys(choices).forEach(function (id) {
      var form = document.getElementById(id);
      if (!form) return;
      Object.keys(choices[id]).forEach(function (key) {
        var chosen = choices[id][key];
        var name = key.split('=')[0];
        form.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (el) {
          if (el.type === 'radio') {
            if (el.value === chosen.value) el.checked = true;
          } else if (el.type === 'checkbox') {
            if (el.value === chosen.value) el.checked = chosen.checked;
          } else if (el.tagName === 'SELECT') {
            var known = Array.prototype.some.call(el.options, function (o) { return o.value === chosen.value; });
            if (known) el.value = chosen.value;
          }
        });
      });
    });
  }

  // Timer and writing state, on the server's clock ------------------------------------

  var timeUp = false;

  function tick() {
    var el = document.getElementById('timer');
    if (!el) return;
    var state = el.dataset.state;
    var left = null;
    if (state === 'running' && el.dataset.ends) left = parseInt(el.dataset.ends, 10) - (Date.now() + clockOffset);
    else if (state === 'paused' && el.dataset.left !== '') left = parseInt(el.dataset.left, 10);
    var value = el.querySelector('.timer-value');
    if (left !== null && value) {
      var seconds = Math.max(0, Math.ceil(left / 1000));
      var label = String(Math.floor(seconds / 60)).padStart(2, '0') + ':' + String(seconds % 60).padStart(2, '0');
      if (value.textContent !== label) value.textContent = label;
      el.classList.toggle('is-up', seconds <= 0);
      el.classList.toggle('is-ending', seconds > 0 && seconds <= 60);
    }
    timerNotice(left === null ? null : Math.max(0, Math.ceil(left / 1000)));
    var up = left !== null && left <= 0 && el.dataset.locks === '1';
    if (up !== timeUp) { timeUp = up; updateWriting(); }
  }

  function updateWriting() {
    var state = document.getElementById('writing-state');
    var locked = state && state.dataset.locked === '1';
    var closed = locked || timeUp;
    if (body.classList.contains('role-facilitator')) closed = false;
    body.classList.toggle('writing-closed', closed);
    document.querySelectorAll('form[data-queue]').forEach(function (form) {
      form.querySelectorAll('textarea, button, input[type=radio]').forEach(function (el) {
        if (el.tagName === 'TEXTAREA') el.readOnly = closed; else el.disabled = closed;
      });
    });
  }

  setInterval(tick, 250);

  // Start -------------------------------------------------------------------------------

  afterChange();
  tick();
  setConnection('reconnecting');
  connect();
})();
