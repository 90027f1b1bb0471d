/* The projected board fits the screen: shrink the type towards 24 px when a
   board overflows, then page the post-its that still do not fit, one page
   every ROTATE_MS. Loaded on the projector page only; live.js does the sync. */
(function () {
  'use strict';

  var ROTATE_MS = 12000;
  var MIN_PX = 24; // the smallest post-it text the room should have to read
  var STEP = 0.05;
  var root = document.body;
  var main = document.querySelector('.projector-main');
  var label = document.getElementById('projector-page');
  if (!main || !root.classList.contains('role-projector')) return;

  var page = 0;
  var pages = 1;
  var pageOf = new WeakMap();
  var scheduled = false;

  function overflows(el) {
    return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  }

  function boxes() {
    return Array.prototype.slice.call(
      main.querySelectorAll('.board, .board .postits, .board .themes, .board .framing')
    );
  }

  function anyOverflow() {
    if (document.documentElement.scrollHeight > window.innerHeight) return true;
    return boxes().some(overflows);
  }

  function setFit(value) {
    root.style.setProperty('--fit', String(value));
  }

  function minFit() {
    setFit(1);
    var base = parseFloat(window.getComputedStyle(root).fontSize) || MIN_PX;
    return Math.min(1, MIN_PX / base);
  }

  // Rows of a post-it grid go to pages greedily: a row that would cross the
  // bottom of its box starts the next page.
  function paginate(container) {
    var items = Array.prototype.slice.call(container.children).filter(function (el) {
      return el.classList.contains('postit');
    });
    if (!items.length) return 1;
    var top = container.getBoundingClientRect().top;
    var limit = container.clientHeight;
    var start = 0;
    var current = 0;
    var rowTop = null;
    var rowBottom = 0;
    var row = [];
    function closeRow() {
      if (!row.length) return;
      if (rowBottom - start > limit && rowTop > start) {
        current += 1;
        start = rowTop;
      }
      row.forEach(function (el) { pageOf.set(el, current); });
      row = [];
    }
    items.forEach(function (el) {
      var box = el.getBoundingClientRect();
      var y = box.top - top;
      if (rowTop === null || Math.abs(y - rowTop) > 2) {
        closeRow();
        rowTop = y;
        rowBottom = 0;
      }
      rowBottom = Math.max(rowBottom, y + box.height);
      row.push(el);
    });
    closeRow();
    return current + 1;
  }

  // A tension matrix pages its rows: a row that would cross the board's bottom starts
  // the next page (the rows before it hide, so it comes up under the table's head).
  function paginateRows(board) {
    var rows = Array.prototype.slice.call(board.querySelectorAll('.matrix .tension-row'));
    if (!rows.length) return 1;
    var limit = board.getBoundingClientRect().bottom;
    var first = rows[0].getBoundingClientRect().top;
    var offset = 0;
    var current = 0;
    rows.forEach(function (row) {
      var box = row.getBoundingClientRect();
      if (box.bottom - offset > limit && box.top - offset > first + 1) {
        current += 1;
        offset = box.top - first;
      }
      pageOf.set(row, current);
    });
    return current + 1;
  }

  function show() {
    main.querySelectorAll('.board .postit, .board .tension-row').forEach(function (el) {
      var p = pageOf.has(el) ? pageOf.get(el) : 0;
      el.classList.toggle('is-off-page', p !== page);
    });
    if (!label) return;
    if (pages > 1) {
      label.textContent = (root.dataset.tPage || 'Page %(page)s / %(count)s')
        .replace('%(page)s', String(page + 1))
        .replace('%(count)s', String(pages));
      label.hidden = false;
    } else {
      label.hidden = true;
      label.textContent = '';
    }
  }

  function fit() {
    scheduled = false;
    pageOf = new WeakMap();
    main.querySelectorAll('.is-off-page').forEach(function (el) { el.classList.remove('is-off-page'); });
    main.querySelectorAll('.board .postits').forEach(function (el) { el.style.removeProperty('--clamp'); });
    main.querySelectorAll('.board .framing.is-tight').forEach(function (el) { el.classList.remove('is-tight'); });
    var floor = minFit();
    var value = 1;
    while (anyOverflow() && value - STEP >= floor - 1e-6) {
      value = Math.round((value - STEP) * 100) / 100;
      setFit(value);
    }
    if (anyOverflow() && value > floor) setFit(floor);
    // A framing that still does not fit drops its two standing phrases (the motto
    // and the client-supplier logic, the same in every workshop) before its text is cut.
    main.querySelectorAll('.board .framing').forEach(function (framing) {
      framing.classList.toggle('is-tight', overflows(framing));
    });
    pages = 1;
    main.querySelectorAll('.board .postits').forEach(function (container) {
      if (!overflows(container)) return;
      var count = paginate(container);
      // A post-it taller than its whole box would be cut, not paged: fewer lines of it.
      var tallest = null;
      Array.prototype.forEach.call(container.children, function (el) {
        if (!el.classList.contains('postit')) return;
        if (!tallest || el.offsetHeight > tallest.offsetHeight) tallest = el;
      });
      var text = tallest && tallest.querySelector('.postit-text');
      if (text && tallest.offsetHeight > container.clientHeight) {
        var line = parseFloat(window.getComputedStyle(text).lineHeight) || 30;
        var room = container.clientHeight - (tallest.offsetHeight - text.offsetHeight);
        container.style.setProperty('--clamp', String(Math.max(1, Math.floor(room / line))));
        count = paginate(container);
      }
      pages = Math.max(pages, count);
    });
    main.querySelectorAll('.board.matrix-board').forEach(function (board) {
      if (overflows(board)) pages = Math.max(pages, paginateRows(board));
    });
    if (page >= pages) page = 0;
    show();
  }

  function later() {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(fit);
  }

  // The timer's seconds tick inside #timer: they never change what fits.
  new MutationObserver(function (records) {
    var relevant = records.some(function (record) {
      var node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      return !(node && node.closest && node.closest('.timer-value, .timer-note'));
    });
    if (relevant) later();
  }).observe(main, { childList: true, subtree: true });
  window.addEventListener('resize', later);
  // The instructions and the QR code follow the timer: its class changes, not its children.
  document.addEventListener('htmx:oobAfterSwap', later);
  document.addEventListener('htmx:afterSettle', later);
  function next() {
    if (pages < 2) return;
    page = (page + 1) % pages;
    show();
  }
  window.setInterval(next, ROTATE_MS);
  // The browser tests turn the pages without waiting ROTATE_MS.
  window.addEventListener('rq-next-page', next);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(later);
  later();
})();
