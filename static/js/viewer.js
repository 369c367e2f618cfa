// Deep-zoom viewer for the item page, reading IIIF Image API 3.0 tiles (info.json, then
// /{region}/{size}/0/default.{format}). It enhances the gallery's own <picture>: without
// JavaScript that picture is simply shown. The picture stays underneath as the low-resolution
// base, so the view is never blank; tiles of the scale factor the zoom needs are laid over it in
// screen space, with their edges on device pixels so neighbouring tiles meet without seams.
// All visible text (button labels, the key help) comes translated from the page.
(function () {
  "use strict";

  var root = document.querySelector("[data-viewer]");
  if (!root || !window.fetch || !window.Map) { return; }
  var stage = root.querySelector(".viewer-stage");
  var base = stage && stage.querySelector("img");
  var controls = root.querySelector(".viewer-controls");
  if (!base || !controls) { return; }
  var link = stage.querySelector("a");
  var layer = document.createElement("div");
  layer.className = "viewer-tiles";
  layer.setAttribute("aria-hidden", "true");
  stage.appendChild(layer);

  var MAX_TILES = 256;      // tile images kept in memory (least recently shown go first)
  var ANIMATION_MS = 200;
  var motion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;

  var W = 0, H = 0;         // the full image, in pixels
  var grid = null;          // {id, tw, th, factors (ascending), format} once info.json is read
  var view = {z: 1, cx: 0, cy: 0, r: 0};  // CSS px per image px, image point at the centre, degrees
  var vw = 1, vh = 1, fitZ = 1, maxZ = 1;
  var tiles = new Map();    // "s/col/row" -> {img, s, x, y, w, h, loaded, failed}
  var token = 0, frame = 0, anim = 0, goal = 0, tapZoomAt = -1e9;
  var zoomInButton = controls.querySelector("[data-viewer-action=zoom-in]");
  var zoomOutButton = controls.querySelector("[data-viewer-action=zoom-out]");
  var fullscreenButton = controls.querySelector("[data-viewer-action=fullscreen]");

  // --- Geometry: image coordinates <-> stage coordinates (rotation in quarter turns) ---

  function turn(x, y, r) {
    // Rotate a vector clockwise on screen (y points down) by r degrees.
    switch ((r + 360) % 360) {
      case 90: return [-y, x];
      case 180: return [-x, -y];
      case 270: return [y, -x];
      default: return [x, y];
    }
  }

  function toScreen(x, y) {
    var v = turn(x - view.cx, y - view.cy, view.r);
    return [vw / 2 + v[0] * view.z, vh / 2 + v[1] * view.z];
  }

  function toImage(sx, sy) {
    var v = turn(sx - vw / 2, sy - vh / 2, -view.r);
    return [view.cx + v[0] / view.z, view.cy + v[1] / view.z];
  }

  function turnedSize() { return view.r % 180 ? [H, W] : [W, H]; }

  function measure() {
    // Fit the (turned) image into the stage, never enlarging a small image beyond its pixels.
    var atFit = view.z <= fitZ * 1.001;
    vw = stage.clientWidth || 1;
    vh = stage.clientHeight || 1;
    var size = turnedSize();
    fitZ = Math.min(vw / size[0], vh / size[1], 1);
    maxZ = Math.max(fitZ * 2, 4 / (window.devicePixelRatio || 1));
    if (atFit) { view.z = fitZ; }
    clampView();
  }

  function clampView() {
    // Keep the zoom in range and the image covering the stage (or centred where it is smaller).
    view.z = Math.min(maxZ, Math.max(fitZ, view.z));
    var size = turnedSize();
    var d = turn(W / 2 - view.cx, H / 2 - view.cy, view.r);
    var mx = Math.max(0, (size[0] * view.z - vw) / 2), my = Math.max(0, (size[1] * view.z - vh) / 2);
    var back = turn(Math.min(mx, Math.max(-mx, d[0] * view.z)) / view.z,
                    Math.min(my, Math.max(-my, d[1] * view.z)) / view.z, -view.r);
    view.cx = W / 2 - back[0];
    view.cy = H / 2 - back[1];
  }

  // --- Moving the view ---

  function zoomTo(z, sx, sy) {
    // Zoom so that the image point under (sx, sy) stays where it is.
    var p = toImage(sx, sy);
    view.z = Math.min(maxZ, Math.max(fitZ, z));
    var v = turn(sx - vw / 2, sy - vh / 2, -view.r);
    view.cx = p[0] - v[0] / view.z;
    view.cy = p[1] - v[1] / view.z;
    clampView();
    schedule();
  }

  function zoomBy(factor, sx, sy) {
    if (sx === undefined) { sx = vw / 2; sy = vh / 2; }
    var from = view.z;
    var to = Math.min(maxZ, Math.max(fitZ, (anim ? goal : from) * factor));
    cancelAnimationFrame(anim);
    anim = 0;
    if (motion && motion.matches) { zoomTo(to, sx, sy); return; }
    goal = to;
    var start = performance.now();
    var step = function (now) {
      // A frame's time stamp can precede the call that asked for it.
      var t = Math.min(1, Math.max(0, (now - start) / ANIMATION_MS));
      zoomTo(from * Math.pow(to / from, t * (2 - t)), sx, sy);
      anim = t < 1 ? requestAnimationFrame(step) : 0;
    };
    anim = requestAnimationFrame(step);
  }

  function panBy(dx, dy) {
    // Move the picture by (dx, dy) screen pixels.
    var v = turn(dx, dy, -view.r);
    view.cx -= v[0] / view.z;
    view.cy -= v[1] / view.z;
    clampView();
    schedule();
  }

  function rotate(degrees) {
    view.r = (view.r + degrees + 360) % 360;
    measure();
    schedule();
  }

  function reset() {
    cancelAnimationFrame(anim);
    anim = 0;
    view.r = 0;
    view.cx = W / 2;
    view.cy = H / 2;
    view.z = 0;  // below any fit: measure() snaps it to the fit
    measure();
    schedule();
  }

  // --- Drawing ---

  function schedule() {
    if (!frame) { frame = requestAnimationFrame(render); }
  }

  function place(el, x, y, w, h) {
    // Lay el over the image rectangle (x, y, w, h), its edges snapped to device pixels.
    var dpr = window.devicePixelRatio || 1;
    var snap = function (v) { return Math.round(v * dpr) / dpr; };
    var a = toScreen(x, y), b = toScreen(x + w, y + h);
    var left = snap(Math.min(a[0], b[0])), right = snap(Math.max(a[0], b[0]));
    var top = snap(Math.min(a[1], b[1])), bottom = snap(Math.max(a[1], b[1]));
    // The element is drawn unturned and then turned about its centre.
    var ew = view.r % 180 ? bottom - top : right - left;
    var eh = view.r % 180 ? right - left : bottom - top;
    el.style.width = ew + "px";
    el.style.height = eh + "px";
    el.style.transform = "translate(" + ((left + right - ew) / 2) + "px," +
      ((top + bottom - eh) / 2) + "px) rotate(" + view.r + "deg)";
  }

  function basePixels() {
    // The base picture's real width in pixels. naturalWidth will not do: for a srcset with width
    // descriptors it is scaled to the slot, so read the descriptor of the candidate in use.
    var chosen = base.currentSrc, sets = [base.srcset];
    base.parentNode.querySelectorAll("source").forEach(function (source) { sets.push(source.srcset); });
    for (var i = 0; i < sets.length; i++) {
      var candidates = (sets[i] || "").split(",");
      for (var j = 0; j < candidates.length; j++) {
        var parts = candidates[j].trim().split(/\s+/);
        if (parts.length === 2 && /^\d+w$/.test(parts[1]) &&
            new URL(parts[0], document.baseURI).href === chosen) {
          return parseInt(parts[1], 10);
        }
      }
    }
    return base.naturalWidth;
  }

  function scaleFactorFor(need) {
    // The coarsest level still at least as sharp as the screen, else the finest there is.
    var chosen = grid.factors[0];
    grid.factors.forEach(function (s) { if (s <= need) { chosen = s; } });
    return chosen;
  }

  function tile(s, col, row) {
    var key = s + "/" + col + "/" + row;
    var t = tiles.get(key);
    if (t) {
      tiles.delete(key);  // re-inserted below: the map's order is the order of last use
    } else {
      var x = col * grid.tw * s, y = row * grid.th * s;
      var w = Math.min(grid.tw * s, W - x), h = Math.min(grid.th * s, H - y);
      t = {img: new Image(), s: s, x: x, y: y, w: w, h: h, loaded: false, failed: false};
      t.img.className = "viewer-tile";
      t.img.alt = "";
      t.img.draggable = false;
      t.img.decoding = "async";
      t.img.dataset.s = s;
      t.img.style.zIndex = String(40 - Math.round(Math.log2(s)));  // finer levels on top
      t.img.onload = function () { t.loaded = true; schedule(); };
      t.img.onerror = function () { t.failed = true; schedule(); };
      // Image API 3.0 tile request: region x,y,w,h in full-size pixels, size "w," scaled by s.
      t.img.src = [grid.id, x + "," + y + "," + w + "," + h, Math.ceil(w / s) + ",", "0",
        "default." + grid.format].join("/");
    }
    tiles.set(key, t);
    return t;
  }

  function render() {
    frame = 0;
    if (!W || !H) { return; }
    place(base, 0, 0, W, H);
    var dpr = window.devicePixelRatio || 1;
    var need = 1 / (view.z * dpr);  // image pixels per device pixel
    var baseScale = base.complete && basePixels() ? W / basePixels() : Infinity;
    var s = 0, shown = new Set(), missing = 0;
    if (grid && need < baseScale) {
      s = scaleFactorFor(need);
      if (s >= baseScale) { s = 0; }  // the base picture is already as sharp as that level
    }
    // The part of the image in view (corners of the stage, turned back into image pixels).
    var c1 = toImage(0, 0), c2 = toImage(vw, vh);
    var x0 = Math.max(0, Math.min(c1[0], c2[0])), x1 = Math.min(W, Math.max(c1[0], c2[0]));
    var y0 = Math.max(0, Math.min(c1[1], c2[1])), y1 = Math.min(H, Math.max(c1[1], c2[1]));
    if (s && x1 > x0 && y1 > y0) {
      var spanX = grid.tw * s, spanY = grid.th * s;
      for (var row = Math.floor(y0 / spanY); row * spanY < y1; row++) {
        for (var col = Math.floor(x0 / spanX); col * spanX < x1; col++) {
          var t = tile(s, col, row);
          shown.add(t);
          if (!t.loaded && !t.failed) { missing++; }
        }
      }
    }
    tiles.forEach(function (t) {
      // While tiles of this level arrive, loaded ones of neighbouring levels fill in.
      var useful = shown.has(t) || (missing && s && t.loaded && t.s >= s / 2 && t.s < baseScale &&
        t.x < x1 && t.x + t.w > x0 && t.y < y1 && t.y + t.h > y0);
      if (useful && t.loaded) {
        place(t.img, t.x, t.y, t.w, t.h);
        if (t.img.parentNode !== layer) { layer.appendChild(t.img); }
      } else if (t.img.parentNode) {
        t.img.remove();
      }
    });
    // Forget the least recently used tiles beyond the cache size.
    var extra = tiles.size - MAX_TILES;
    tiles.forEach(function (t, key) {
      if (extra > 0 && !shown.has(t)) { tiles.delete(key); t.img.remove(); extra--; }
    });
    // State for styles and tests: tile level in use, tiles still loading, zoom relative to fit.
    root.dataset.scaleFactor = s ? String(s) : "";
    root.dataset.pending = String(missing);
    root.dataset.zoom = (view.z / fitZ).toFixed(2);
    root.dataset.rotation = String(view.r);
    root.classList.toggle("viewer-zoomed", view.z > fitZ * 1.001);
    if (zoomInButton) { zoomInButton.disabled = view.z >= maxZ * 0.999; }
    if (zoomOutButton) { zoomOutButton.disabled = view.z <= fitZ * 1.001; }
  }

  // --- Opening an image ---

  function open(infoUrl, width, height) {
    var mine = ++token;
    tiles.forEach(function (t) { t.img.onload = t.img.onerror = null; t.img.remove(); });
    tiles.clear();
    grid = null;
    W = width || base.naturalWidth || 1;
    H = height || base.naturalHeight || 1;
    stage.style.setProperty("--viewer-ratio", W + " / " + H);
    stage.style.setProperty("--viewer-max-height", H + "px");
    stage.setAttribute("aria-label", base.alt);
    root.classList.remove("viewer-ready");
    reset();
    fetch(infoUrl, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (info) {
      if (mine !== token) { return; }  // another image was chosen meanwhile
      var spec = (info.tiles || [])[0];
      var formats = (info.preferredFormats || []).concat(info.extraFormats || []);
      W = info.width;
      H = info.height;
      if (spec && spec.width && spec.scaleFactors && spec.scaleFactors.length) {
        grid = {
          id: String(info.id || info["@id"] || infoUrl.replace(/\/info\.json$/, "")).replace(/\/$/, ""),
          tw: spec.width, th: spec.height || spec.width,
          factors: spec.scaleFactors.slice().sort(function (a, b) { return a - b; }),
          format: formats.indexOf("webp") >= 0 ? "webp" : "jpg"
        };
      }
      root.classList.add("viewer-ready");
      measure();
      schedule();
    }).catch(function () {
      // No tiles: zooming still works on the base picture alone.
    });
  }

  // --- Input ---

  function point(event) {
    var box = stage.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  var pointers = new Map();  // pointerId -> [x, y]
  var gesture = null, lastTap = null;

  function startGesture() {
    var list = Array.from(pointers.values());
    if (list.length === 1) {
      gesture = {at: list[0], cx: view.cx, cy: view.cy};
    } else if (list.length >= 2) {
      var mid = [(list[0][0] + list[1][0]) / 2, (list[0][1] + list[1][1]) / 2];
      gesture = {dist: Math.hypot(list[0][0] - list[1][0], list[0][1] - list[1][1]) || 1,
        z: view.z, p: toImage(mid[0], mid[1])};
    } else {
      gesture = null;
    }
  }

  stage.addEventListener("pointerdown", function (event) {
    if (event.button > 0) { return; }
    event.preventDefault();  // no text selection or native image drag; focus is given below
    stage.focus({preventScroll: true});
    stage.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, point(event));
    cancelAnimationFrame(anim);
    anim = 0;
    startGesture();
    gesture.down = {at: point(event), time: event.timeStamp, moved: false};
    root.classList.add("viewer-dragging");
  });

  stage.addEventListener("pointermove", function (event) {
    if (!pointers.has(event.pointerId) || !gesture) { return; }
    var at = point(event);
    pointers.set(event.pointerId, at);
    var list = Array.from(pointers.values());
    if (gesture.down && Math.hypot(at[0] - gesture.down.at[0], at[1] - gesture.down.at[1]) > 8) {
      gesture.down.moved = true;
    }
    if (list.length === 1) {
      var v = turn(at[0] - gesture.at[0], at[1] - gesture.at[1], -view.r);
      view.cx = gesture.cx - v[0] / view.z;
      view.cy = gesture.cy - v[1] / view.z;
      clampView();
      schedule();
    } else {
      // Pinch: scale by the change in finger distance about the image point between them.
      var mid = [(list[0][0] + list[1][0]) / 2, (list[0][1] + list[1][1]) / 2];
      view.z = Math.min(maxZ, Math.max(fitZ,
        gesture.z * Math.hypot(list[0][0] - list[1][0], list[0][1] - list[1][1]) / gesture.dist));
      var w = turn(mid[0] - vw / 2, mid[1] - vh / 2, -view.r);
      view.cx = gesture.p[0] - w[0] / view.z;
      view.cy = gesture.p[1] - w[1] / view.z;
      clampView();
      schedule();
    }
  });

  function endPointer(event) {
    if (!pointers.delete(event.pointerId)) { return; }
    var down = gesture && gesture.down;
    // A quick second tap near the first zooms in (touch and pen; mice have dblclick).
    if (event.type === "pointerup" && event.pointerType !== "mouse" && down && !down.moved &&
        pointers.size === 0 && event.timeStamp - down.time < 300) {
      if (lastTap && event.timeStamp - lastTap.time < 350 &&
          Math.hypot(down.at[0] - lastTap.at[0], down.at[1] - lastTap.at[1]) < 30) {
        zoomBy(2, down.at[0], down.at[1]);
        lastTap = null;
        tapZoomAt = event.timeStamp;
      } else {
        lastTap = {at: down.at, time: event.timeStamp};
      }
    }
    startGesture();
    if (!pointers.size) { root.classList.remove("viewer-dragging"); }
  }
  stage.addEventListener("pointerup", endPointer);
  stage.addEventListener("pointercancel", endPointer);

  stage.addEventListener("dblclick", function (event) {
    if (event.timeStamp - tapZoomAt < 600) { return; }  // the double tap has zoomed already
    var at = point(event);
    zoomBy(event.shiftKey ? 0.5 : 2, at[0], at[1]);
  });

  stage.addEventListener("wheel", function (event) {
    var dy = event.deltaY * (event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? vh : 1);
    // At the limits the wheel scrolls the page instead of doing nothing.
    if ((dy < 0 && view.z >= maxZ * 0.999) || (dy > 0 && view.z <= fitZ * 1.001) || !dy) { return; }
    event.preventDefault();
    cancelAnimationFrame(anim);
    anim = 0;
    var at = point(event);
    zoomTo(view.z * Math.exp(-dy * 0.003), at[0], at[1]);
  }, {passive: false});

  stage.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var step = 0.2, zoomed = view.z > fitZ * 1.001;
    switch (event.key) {
      case "+": case "=": zoomBy(2); break;
      case "-": case "_": zoomBy(0.5); break;
      case "0": reset(); break;
      case "r": rotate(90); break;
      case "R": rotate(-90); break;
      case "Escape": if (!root.classList.contains("viewer-fullscreen")) { return; }
        setFallbackFullscreen(false); break;
      // Arrows move the picture when zoomed; otherwise they scroll the page as usual.
      case "ArrowLeft": if (!zoomed) { return; } panBy(vw * step, 0); break;
      case "ArrowRight": if (!zoomed) { return; } panBy(-vw * step, 0); break;
      case "ArrowUp": if (!zoomed) { return; } panBy(0, vh * step); break;
      case "ArrowDown": if (!zoomed) { return; } panBy(0, -vh * step); break;
      default: return;
    }
    event.preventDefault();
  });

  // --- Full screen: the Fullscreen API where there is one, else a fixed overlay ---

  function fullscreenElement() {
    return document.fullscreenElement || document.webkitFullscreenElement || null;
  }

  function fullscreenChanged() {
    var on = fullscreenElement() === root || root.classList.contains("viewer-fullscreen");
    if (fullscreenButton) { fullscreenButton.setAttribute("aria-pressed", String(on)); }
    measure();
    schedule();
  }

  function setFallbackFullscreen(on) {
    root.classList.toggle("viewer-fullscreen", on);
    document.documentElement.classList.toggle("viewer-locked", on);
    fullscreenChanged();
  }

  function toggleFullscreen() {
    if (fullscreenElement() === root) {
      (document.exitFullscreen || document.webkitExitFullscreen).call(document);
    } else if (root.classList.contains("viewer-fullscreen")) {
      setFallbackFullscreen(false);
    } else if ((document.fullscreenEnabled || document.webkitFullscreenEnabled) &&
               (root.requestFullscreen || root.webkitRequestFullscreen)) {
      var asked = (root.requestFullscreen || root.webkitRequestFullscreen).call(root);
      if (asked && asked.catch) { asked.catch(function () { setFallbackFullscreen(true); }); }
    } else {
      setFallbackFullscreen(true);
    }
  }
  document.addEventListener("fullscreenchange", fullscreenChanged);
  document.addEventListener("webkitfullscreenchange", fullscreenChanged);

  controls.addEventListener("click", function (event) {
    var button = event.target.closest("[data-viewer-action]");
    if (!button) { return; }
    var action = button.dataset.viewerAction;
    if (action === "zoom-in") { zoomBy(2); }
    else if (action === "zoom-out") { zoomBy(0.5); }
    else if (action === "rotate") { rotate(90); }
    else if (action === "fullscreen") { toggleFullscreen(); }
    else if (action === "reset") { reset(); }
  });

  // --- Start ---

  // The link to the large picture is for pages without JavaScript; here a click is a gesture.
  if (link) {
    link.addEventListener("click", function (event) { event.preventDefault(); });
    link.tabIndex = -1;
  }
  base.draggable = false;
  base.addEventListener("load", function () {
    root.classList.remove("viewer-base-loading");
    schedule();
  });
  stage.tabIndex = 0;
  stage.setAttribute("role", "application");
  controls.hidden = false;
  root.classList.add("viewer-on");
  if (window.ResizeObserver) {
    new ResizeObserver(function () { measure(); schedule(); }).observe(stage);
  } else {
    window.addEventListener("resize", function () { measure(); schedule(); });
  }

  // The gallery asks for another of the item's images without leaving the page.
  root.addEventListener("viewer:open", function (event) {
    var detail = event.detail || {};
    if (!base.complete) { root.classList.add("viewer-base-loading"); }
    open(detail.info, detail.width, detail.height);
  });
  open(root.dataset.info, Number(root.dataset.width), Number(root.dataset.height));
})();
