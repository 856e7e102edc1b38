// sia dashboard: follow a page's event stream and redraw its live part
// (#live) in place when the run moves on. No framework, no build step.
(function () {
  'use strict';
  var src = document.body.getAttribute('data-live');
  var status = document.getElementById('live-status');
  if (!src || !window.EventSource) {
    return;
  }
  var timer = null;
  var lastEvent = '';

  function show(text, cls) {
    if (!status) return;
    status.hidden = false;
    status.textContent = text;
    status.className = 'live-status ' + (cls || '');
  }

  function refresh() {
    timer = null;
    var url = new URL(window.location.href);
    url.searchParams.set('fragment', 'live');
    fetch(url.toString(), {cache: 'no-store', credentials: 'same-origin'})
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.text();
      })
      .then(function (html) {
        var live = document.getElementById('live');
        if (!live) return;
        // Keep what the reader opened or picked across the redraw.
        var open = {}, picked = {};
        live.querySelectorAll('details[id]').forEach(function (d) { if (d.open) open[d.id] = true; });
        live.querySelectorAll('select[id]').forEach(function (s) { picked[s.id] = s.value; });
        live.innerHTML = html;
        Object.keys(open).forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
        Object.keys(picked).forEach(function (id) {
          var s = document.getElementById(id);
          if (s && s.querySelector('option[value="' + picked[id] + '"]')) s.value = picked[id];
        });
        document.body.setAttribute('data-refreshed', String(Date.now()));
        show('live' + (lastEvent ? ' · ' + lastEvent : ''), 'on');
      })
      .catch(function (err) { show('redraw failed: ' + err.message, 'off'); });
  }

  function schedule() {
    if (timer === null) timer = setTimeout(refresh, 150);
  }

  var es = new EventSource(src);
  es.onopen = function () { show('live', 'on'); };
  es.onerror = function () { show('reconnecting…', 'off'); };
  es.addEventListener('event', function (e) {
    try {
      var ev = JSON.parse(e.data);
      lastEvent = ev.type + (ev.gen ? ' (gen ' + ev.gen + ')' : '');
    } catch (_) {
      lastEvent = '';
    }
    schedule();
  });
  es.addEventListener('change', schedule);
  es.addEventListener('reset', schedule);
  es.addEventListener('error', function (e) {
    if (e.data) show('stream error: ' + e.data, 'off');
  });
})();
