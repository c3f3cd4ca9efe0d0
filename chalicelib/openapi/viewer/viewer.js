// skyhawk's API viewer: swagger-ui on one of the service's documents, picked in the page's select (and in
// the URL's #fragment, so a link can name one). Every file comes from this service; nothing from elsewhere.
(function () {
  "use strict";
  var select = document.getElementById("document");
  var wanted = window.location.hash.replace(/^#/, "");
  Array.prototype.forEach.call(select.options, function (option) {
    if (option.getAttribute("data-name") === wanted) {
      select.value = option.value;
    }
  });

  function show() {
    var option = select.options[select.selectedIndex];
    window.history.replaceState(null, "", "#" + option.getAttribute("data-name"));
    window.SwaggerUIBundle({
      url: option.value,
      dom_id: "#swagger-ui",
      deepLinking: false,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
    });
  }

  select.addEventListener("change", show);
  show();
})();
