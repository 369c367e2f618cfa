// Exhibition editor: ask before a remove or trash button takes a section or an item away.
// Without scripts the forms simply submit; the exhibition's history can bring anything back.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : "";
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
