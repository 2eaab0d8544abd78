// Waymark's own behaviour, kept small: the pages work without it.

// Menus are <details>: close them on Escape and on a click elsewhere, like native menus.
function closeMenus(except) {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (menu !== except) menu.removeAttribute("open");
  }
}

document.addEventListener("click", (event) => {
  closeMenus(event.target.closest("details[data-menu]"));
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector("details[data-menu][open]");
  if (open) {
    open.removeAttribute("open");
    open.querySelector("summary")?.focus();
  }
});

// A disclosure that loads what it shows when first opened: <details data-load> holds only a link
// to the page of its content (what works without JavaScript); opened, the content the link's URL
// answers to htmx replaces the link in place. A board of a thousand cards carries links only.
// (toggle does not bubble: listened to while it goes down.)
document.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    if (!details.open || !details.matches?.("details[data-load]") || !window.htmx) return;
    const link = details.querySelector(":scope > a[href]");
    if (!link) return;
    details.removeAttribute("data-load");
    window.htmx.ajax("GET", link.href, { source: details, target: link, swap: "outerHTML" });
  },
  true,
);

// Destructive forms ask first: <form data-confirm="Remove Ada?">.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});


// An in-page (htmx) request the server refused or could not answer. The pages' own forms answer
// their errors with 200 and show them in place, so this is the unexpected: say so, instead of
// nothing happening, and say whether anything was kept.
const FAILURES = {
  0: "Waymark could not be reached: check your connection. Nothing was sent.",
  403: "This cannot be changed with your access here. Nothing was saved.",
  404: "This is gone: someone may have deleted it. Reload the page.",
  413: "That was too large to send. Nothing was saved.",
  429: "Too many attempts: wait a minute, then try again.",
  503: "Waymark is temporarily unavailable, so this was not saved. Try again in a minute.",
};
const OTHER_FAILURE = "Something went wrong on our side, so this was not saved. Try again.";

function showFailure(status) {
  const box = document.getElementById("request-error");
  if (!box) return;
  const text = FAILURES[status] ?? (status >= 500 ? OTHER_FAILURE : FAILURES[403]);
  box.querySelector("[data-request-error-text]").textContent = text;
  box.hidden = false;
}

function hideFailure() {
  const box = document.getElementById("request-error");
  if (box) box.hidden = true;
}

document.addEventListener("htmx:responseError", (event) => showFailure(event.detail.xhr.status));
document.addEventListener("htmx:sendError", () => showFailure(0));
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) hideFailure();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-request-error-close]")) hideFailure();
});

// A board cell's "N more" (templates/roadmap/planning/_cell_more_link.html) gives way to the
// cards it loads: the focus goes on to the first of them, not back to the top of the page.
document.addEventListener("htmx:afterSettle", (event) => {
  const link = event.detail.requestConfig?.elt;
  const cell = event.detail.elt;
  if (!link?.closest?.(".plan-cell__more") || !cell.classList.contains("plan-cell")) return;
  const start = Number(new URL(link.href).searchParams.get("start"));
  const first = cell.querySelectorAll(":scope > .plan-card")[start];
  if (!first) return;
  first.tabIndex = -1;
  first.focus();
});
