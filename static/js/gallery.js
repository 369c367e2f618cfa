// Item gallery: choosing a thumbnail swaps the main image in place instead of loading a new page
// (scroll position and everything else on the page stay as they are), and tells the deep-zoom
// viewer (viewer.js) to open that image's tiles. Without JavaScript the thumbnails are plain
// links to ?image=N, which render the same view.
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
  var viewer = main.querySelector("[data-viewer]");
  gallery.querySelectorAll(".thumbs a").forEach(function (thumb) {
    thumb.addEventListener("click", function (event) {
      event.preventDefault();
      if (thumb.getAttribute("aria-current") === "true") { return; }
      var data = thumb.dataset;
      img.removeAttribute("width");
      img.removeAttribute("height");
      if (source) { source.srcset = data.srcsetWebp || data.mediumWebp; }
      if (data.srcsetJpeg) { img.srcset = data.srcsetJpeg; }
      img.src = data.mediumJpeg;
      img.alt = data.alt || "";
      link.href = data.large;
      caption.textContent = data.caption || "";
      gallery.querySelectorAll(".thumbs a").forEach(function (other) {
        other.removeAttribute("aria-current");
      });
      thumb.setAttribute("aria-current", "true");
      history.replaceState(history.state, "", thumb.href);
      if (viewer && data.info) {
        viewer.dataset.info = data.info;
        viewer.dispatchEvent(new CustomEvent("viewer:open", {detail: {
          info: data.info, width: Number(data.width), height: Number(data.height)
        }}));
      }
    });
  });
})();
