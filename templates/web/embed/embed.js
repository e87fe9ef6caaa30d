{#- Served at /subscriptions/embed.js for the council's own page: resizes each sign-up
    iframe (data-lop-embed) to the height the form inside reports. -#}
(function () {
  var origin = {{ origin|tojson }};
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || !e.data || e.data.type !== "lop-embed-height") { return; }
    var height = Math.min(Math.max(Number(e.data.height) || 0, 200), 6000);
    document.querySelectorAll("iframe[data-lop-embed]").forEach(function (f) {
      if (f.contentWindow === e.source) { f.style.height = height + "px"; }
    });
  });
  // The frame may have told its height before this script loaded (it is async):
  // ask again now, and whenever a frame loads.
  function ask(f) {
    try { f.contentWindow.postMessage({ type: "lop-embed-ping" }, origin); } catch (err) {}
  }
  document.querySelectorAll("iframe[data-lop-embed]").forEach(function (f) {
    f.addEventListener("load", function () { ask(f); });
    ask(f);
  });
})();
