// Live preview: as the officer types, ask the server for each platform's count and
// problems (the server's rules are the only rules), and show them. Without JavaScript,
// the "Check length" button does the same with a page load.
(function () {
  var form = document.getElementById("edit-form");
  var box = document.getElementById("previews");
  if (!form || !box || !window.fetch) { return; }
  var url = box.getAttribute("data-preview-url");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  function show(data) {
    Object.keys(data.platforms).forEach(function (key) {
      var p = data.platforms[key];
      var text = box.querySelector('[data-preview-text="' + key + '"]');
      var counter = box.querySelector('[data-counter="' + key + '"]');
      var list = box.querySelector('[data-problems="' + key + '"]');
      if (!text || !counter) { return; }
      text.textContent = p.text;
      // Other platforms' counts are only a look: never red (issue 13.6).
      var neutral = counter.getAttribute("data-neutral") === "yes";
      counter.textContent = p.remaining >= 0
        ? p.count + " of " + p.limit + " " + p.unit + ". " + p.remaining + " left."
        : neutral
          ? p.count + " of " + p.limit + " " + p.unit + ": longer than " + p.label + " allows."
          : p.count + " of " + p.limit + " " + p.unit + ". " + (-p.remaining) + " too many.";
      counter.className = (p.remaining >= 0 || neutral) ? "counter-ok" : "counter-over";
      if (!list) { return; }
      list.textContent = "";
      p.problems.forEach(function (problem) {
        var li = document.createElement("li");
        li.textContent = problem;
        list.appendChild(li);
      });
    });
  }
  function check() {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({
        text: form.elements.text.value,
        image_url: form.elements.image_url.value,
        image_alt: form.elements.image_alt.value
      })
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () { /* the server checks again on save */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
})();
