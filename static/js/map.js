/*
 * Réciproque map: the facilitator nudges actors on the server-drawn SVG.
 *
 * Drag an actor (mouse, pen or touch), or focus it (Tab) and use the arrow
 * keys (Shift: bigger steps). Only the final position is posted: on release
 * for a drag, a moment after the last key press (or on Enter) for the
 * keyboard. Escape puts the actor back in its slot. The room sees the move
 * through the usual push, which redraws the SVG; htmx keeps the focus on the
 * actor (same id), and a position not yet saved is put back on the new
 * drawing. Nothing here writes HTML.
 */
(function () {
  'use strict';
  if (window.rqMap) return;
  window.rqMap = true;

  var STEP = 10;
  var BIG_STEP = 50;
  var SAVE_DELAY = 700;
  var DRAG_THRESHOLD = 4;
  var pending = {};      // element id -> {x, y, url}
  var saveTimers = {};
  var drag = null;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']; } catch (e) { return ''; }
  }

  function newOpId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function actorOf(target) {
    var el = target && target.closest ? target.closest('.map-actor[data-move]') : null;
    return el && el.closest('svg.is-movable') ? el : null;
  }

  function place(el, x, y) {
    el.setAttribute('transform', 'translate(' + x + ' ' + y + ')');
    el.dataset.x = x;
    el.dataset.y = y;
  }

  function toSvg(svg, clientX, clientY) {
    var matrix = svg.getScreenCTM();
    if (!matrix) return { x: clientX, y: clientY };
    var point = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    return { x: point.x, y: point.y };
  }

  function post(url, fields, id) {
    var body = new URLSearchParams(fields);
    body.set('op_id', newOpId());
    return fetch(url, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': csrfToken(), 'HX-Request': 'true' }
    }).then(function (response) {
      if (id && pending[id] && pending[id].x === fields.x && pending[id].y === fields.y) delete pending[id];
      if (!response.ok) {
        return response.text().then(function (html) {
          if (html && window.htmx) htmx.swap(document.body, html, { swapStyle: 'none' });
        });
      }
    }, function () {
      // Offline: keep the position; the next key press or drag tries again.
    });
  }

  function save(el) {
    var id = el.id;
    clearTimeout(saveTimers[id]);
    delete saveTimers[id];
    var x = String(Math.round(parseFloat(el.dataset.x)));
    var y = String(Math.round(parseFloat(el.dataset.y)));
    pending[id] = { x: x, y: y, url: el.dataset.move };
    el.classList.remove('is-unsaved');
    post(el.dataset.move, { x: x, y: y }, id);
  }

  // Dragging: follow the pointer locally, post once on release. ------------------------

  document.addEventListener('pointerdown', function (event) {
    if (event.button !== 0) return;
    var el = actorOf(event.target);
    if (!el) return;
    var svg = el.ownerSVGElement;
    var start = toSvg(svg, event.clientX, event.clientY);
    drag = {
      id: el.id,
      pointer: event.pointerId,
      start: start,
      x0: parseFloat(el.dataset.x),
      y0: parseFloat(el.dataset.y),
      moved: false
    };
    el.classList.add('is-dragging');
    event.preventDefault();
  });

  document.addEventListener('pointermove', function (event) {
    if (!drag || event.pointerId !== drag.pointer) return;
    var el = document.getElementById(drag.id);
    if (!el) return;
    var point = toSvg(el.ownerSVGElement, event.clientX, event.clientY);
    var dx = point.x - drag.start.x;
    var dy = point.y - drag.start.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD) return;
    drag.moved = true;
    place(el, Math.round(drag.x0 + dx), Math.round(drag.y0 + dy));
    pending[drag.id] = { x: el.dataset.x, y: el.dataset.y, url: el.dataset.move };
    el.classList.add('is-dragging');
    event.preventDefault();
  });

  function endDrag(event, cancelled) {
    if (!drag || event.pointerId !== drag.pointer) return;
    var current = drag;
    drag = null;
    var el = document.getElementById(current.id);
    if (!el) return;
    el.classList.remove('is-dragging');
    if (!current.moved) { el.focus(); return; }
    if (cancelled) {
      delete pending[current.id];
      place(el, current.x0, current.y0);
      return;
    }
    save(el);
  }
  document.addEventListener('pointerup', function (event) { endDrag(event, false); });
  document.addEventListener('pointercancel', function (event) { endDrag(event, true); });

  // The keyboard alternative. ------------------------------------------------------------

  var KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  document.addEventListener('keydown', function (event) {
    var el = actorOf(event.target);
    if (!el || event.target !== el) return;
    if (KEYS[event.key]) {
      var step = event.shiftKey ? BIG_STEP : STEP;
      var x = Math.round(parseFloat(el.dataset.x) + KEYS[event.key][0] * step);
      var y = Math.round(parseFloat(el.dataset.y) + KEYS[event.key][1] * step);
      place(el, Math.max(0, x), Math.max(0, y));
      pending[el.id] = { x: el.dataset.x, y: el.dataset.y, url: el.dataset.move };
      el.classList.add('is-unsaved');
      clearTimeout(saveTimers[el.id]);
      event.preventDefault();
    } else if (event.key === 'Enter' || event.key === ' ') {
      if (pending[el.id]) save(el);
      event.preventDefault();
    } else if (event.key === 'Escape') {
      clearTimeout(saveTimers[el.id]);
      delete pending[el.id];
      post(el.dataset.move, { reset: '1' });
      event.preventDefault();
    }
  });

  // Saved a moment after the last arrow key is released (one post for a run of presses).
  document.addEventListener('keyup', function (event) {
    var el = actorOf(event.target);
    if (!el || !KEYS[event.key] || !pending[el.id]) return;
    clearTimeout(saveTimers[el.id]);
    saveTimers[el.id] = setTimeout(function () {
      var current = document.getElementById(el.id) || el;
      save(current);
    }, SAVE_DELAY);
  });

  // A push redrew the map: put back what is not saved yet. --------------------------------

  document.addEventListener('htmx:oobAfterSwap', function () {
    Object.keys(pending).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && (el.dataset.x !== pending[id].x || el.dataset.y !== pending[id].y)) {
        place(el, pending[id].x, pending[id].y);
      }
    });
  });
})();
