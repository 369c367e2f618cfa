// Item gallery: choosing a thumbnail swaps the main image in place instead of loading a new page.
// Without JavaScript the thumbnails are plain links to ?image=N, which render the same view.
(function () {
  "use strict";
  var gallery = document.querySelector("[data-gallery]");
  if (!gallery) { return; }
  var main = gallery.querySelector(".gallery-main");
  if (!main) { return; }
  var img = main.querySelector("img");
  var source = main.querySelector("source");
  var link = main.querySelector("[data-gallery-link]");
  var caption = main.querySelector("[data-gallery-caption]");
  gallery.querySelectorAll(".thumbs a").forEach(function (thumb) {
    thumb.addEventListener("click", function (event) {
      event.preventDefault();
      img.removeAttribute("width");
      img.removeAttribute("height");
      if (source) { source.srcset = thumb.dataset.mediumWebp; }
      img.src = thumb.dataset.mediumJpeg;
      img.alt = thumb.dataset.alt || "";
      link.href = thumb.dataset.large;
      caption.textContent = thumb.dataset.caption || "";
      gallery.querySelectorAll(".thumbs a").forEach(function (other) {
        other.removeAttribute("aria-current");
      });
      thumb.setAttribute("aria-current", "true");
      history.replaceState(null, "", thumb.href);
    });
  });
})();
