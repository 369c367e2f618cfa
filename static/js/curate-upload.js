// Image uploads in the item editor: files chosen or dropped are sent one by one (XHR, so each has
// its own <progress> bar), and after each accepted file the image list is replaced by the one the
// server sends back. Without JavaScript the same form posts all chosen files at once.
(function () {
  "use strict";
  var form = document.querySelector("[data-upload-form]");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-drop-zone]");
  var list = form.querySelector("[data-upload-list]");
  var submit = form.querySelector("[data-upload-submit]");
  var images = document.querySelector("[data-image-list]");
  var meta = document.querySelector("meta[name=csrf-token]");
  var token = meta ? meta.getAttribute("content") : "";
  var queue = [];
  var busy = false;

  // The files are sent as soon as they are chosen, so the button is only needed without scripts.
  if (submit) { submit.hidden = true; }

  function row(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var status = document.createElement("span");
    status.className = "upload-status";
    status.textContent = form.dataset.msgUploading || "";
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(status);
    list.appendChild(li);
    return {li: li, bar: bar, status: status};
  }

  function finish(entry, ok, message) {
    entry.bar.value = 100;
    entry.li.className = ok ? "upload-ok" : "upload-refused";
    entry.status.textContent = message;
    busy = false;
    next();
  }

  function send(file, entry) {
    var data = new FormData();
    data.append("images", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { entry.bar.value = Math.round(event.loaded / event.total * 99); }
    });
    xhr.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (ignore) { answer = null; }
      if (!answer) {
        finish(entry, false, (form.dataset.msgFailed || "") + " (" + xhr.status + ")");
        return;
      }
      if (answer.images_html && images) { images.innerHTML = answer.images_html; }
      finish(entry, xhr.status < 300 && answer.ok, answer.message || form.dataset.msgFailed || "");
    });
    xhr.addEventListener("error", function () { finish(entry, false, form.dataset.msgNetwork || ""); });
    xhr.send(data);
  }

  // One file at a time: uploads keep their order and a small server is not flooded.
  function next() {
    if (busy || !queue.length) { return; }
    busy = true;
    var job = queue.shift();
    send(job.file, job.entry);
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      queue.push({file: file, entry: row(file)});
    });
    next();
  }

  input.addEventListener("change", function () {
    add(input.files);
    input.value = "";
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.files.length) { add(input.files); input.value = ""; }
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("drop-active");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.remove("drop-active");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) { add(event.dataTransfer.files); }
  });
}());
