// LexLedger web page: a few htmx-style behaviours, no build step.
// [data-poll]    refresh innerHTML from a URL until the fragment says [data-final]
// #dropzone      drag-and-drop (or choose) PDFs, upload them, go to the result
// form[data-post] submit in place and show the answer in data-target
// [data-action]  POST a batch action (cancel, retry) and reload
"use strict";

const WEB_HEADERS = { "X-LexLedger-Web": "1" };

function poll(el) {
  const url = el.dataset.poll;
  const every = parseInt(el.dataset.interval || "1500", 10);
  const tick = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.status === 401) { window.location = "/web/login"; return; }
      if (response.ok) {
        el.innerHTML = await response.text();
        if (el.querySelector("[data-final]")) {
          if (el.hasAttribute("data-reload-on-final")) window.location.reload();
          return;
        }
      }
    } catch (err) { /* the next tick tries again */ }
    setTimeout(tick, every);
  };
  if (el.querySelector("[data-final]")) return;
  tick();
}

async function upload(files) {
  const status = document.getElementById("upload-status");
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  status.textContent = status.dataset.uploading;
  const response = await fetch("/web/upload", {
    method: "POST", body: form, headers: WEB_HEADERS, credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok && body.location) { window.location = body.location; return; }
  status.textContent = (body.error && body.error.message) || ("HTTP " + response.status);
  status.classList.add("error");
}

function dropzone(zone) {
  const input = document.getElementById("file-input");
  input.addEventListener("change", () => upload(input.files));
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => {
    zone.classList.remove("over");
  }));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    upload(event.dataTransfer.files);
  });
}

function postForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = document.querySelector(form.dataset.target);
    const button = form.querySelector("button");
    button.disabled = true;
    target.textContent = form.dataset.busy || "";
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), headers: WEB_HEADERS,
        credentials: "same-origin",
      });
      target.innerHTML = await response.text();
    } finally {
      button.disabled = false;
    }
  });
}

function actionButton(button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    const response = await fetch(button.dataset.action, {
      method: "POST", headers: WEB_HEADERS, credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    window.location = body.location || window.location.href;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(poll);
  const zone = document.getElementById("dropzone");
  if (zone) dropzone(zone);
  document.querySelectorAll("form[data-post]").forEach(postForm);
  document.querySelectorAll("[data-action]").forEach(actionButton);
});
