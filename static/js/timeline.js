// The timeline's bars: drag a bar to move its dates, drag its right edge to move its end.
//
// The timeline works without this module: every item has a "Dates" form. Here, a drag snaps to
// whole days and, on release, posts the same form fields (start_date, end_date) to the bar's
// dates URL through htmx; the timeline fragment the server answers replaces the page's, so what
// shows is always the server's state. A click without a drag opens the item's form.

/* global htmx */

const DAY_MS = 24 * 60 * 60 * 1000;

// Dates as "YYYY-MM-DD" strings, counted in UTC so that no time zone shifts a day.
const toTime = (iso) => Date.parse(`${iso}T00:00:00Z`);
const toIso = (time) => new Date(time).toISOString().slice(0, 10);
const addDays = (iso, days) => toIso(toTime(iso) + days * DAY_MS);
const readable = (iso) =>
  new Date(toTime(iso)).toLocaleDateString(undefined, {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });

function announce(text) {
  const region = document.getElementById("timeline-status");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

document.addEventListener("planning:notice", (event) => announce(event.detail.text));

let drag = null;

// The dates a bar would have after moving by `delta` days (or moving its end, for "end").
function datesAfter({ bar, mode, firstDay, spanDays }, delta) {
  const { start, end } = bar.dataset;
  if (mode === "move") {
    return { start: start && addDays(start, delta), end: end && addDays(end, delta) };
  }
  // The drawn end: the end date, or the end of the stub drawn for a bar without one.
  return { start, end: addDays(firstDay, spanDays - 1 + delta) };
}

function label({ start, end }) {
  if (start && end) return `${readable(start)} – ${readable(end)}`;
  return start ? `From ${readable(start)}` : `Due ${readable(end)}`;
}

document.addEventListener("pointerdown", (event) => {
  const bar = event.target.closest?.(".tl-bar[data-dates-url]");
  if (!bar || event.button !== 0) return;
  const timeline = bar.closest("#timeline");
  const days = Number(timeline.dataset.days);
  const left = Number.parseFloat(bar.style.left);
  const width = Number.parseFloat(bar.style.width);
  drag = {
    bar,
    mode: event.target.closest(".tl-bar__resize") ? "end" : "move",
    x: event.clientX,
    delta: 0,
    left,
    width,
    days,
    dayWidth: bar.parentElement.getBoundingClientRect().width / days,
    firstDay: addDays(timeline.dataset.start, Math.round((left * days) / 100)),
    spanDays: Math.max(1, Math.round((width * days) / 100)),
    text: bar.querySelector(".tl-bar__text").textContent,
  };
  bar.setPointerCapture(event.pointerId);
  bar.classList.add("is-dragging");
  event.preventDefault();
});

document.addEventListener("pointermove", (event) => {
  if (!drag) return;
  let delta = Math.round((event.clientX - drag.x) / drag.dayWidth);
  // An end never goes before its start.
  if (drag.mode === "end") delta = Math.max(delta, 1 - drag.spanDays);
  if (delta === drag.delta) return;
  drag.delta = delta;
  const shift = (delta * 100) / drag.days;
  if (drag.mode === "move") drag.bar.style.left = `${drag.left + shift}%`;
  else drag.bar.style.width = `${drag.width + shift}%`;
  drag.bar.querySelector(".tl-bar__text").textContent = label(datesAfter(drag, delta));
});

function restore() {
  const { bar, left, width, text } = drag;
  bar.style.left = `${left}%`;
  bar.style.width = `${width}%`;
  bar.querySelector(".tl-bar__text").textContent = text;
  bar.classList.remove("is-dragging");
  drag = null;
}

document.addEventListener("pointercancel", () => drag && restore());

document.addEventListener("pointerup", () => {
  if (!drag) return;
  const current = drag;
  if (current.delta === 0) {
    restore();
    openForm(current.bar);
    return;
  }
  const dates = datesAfter(current, current.delta);
  drag = null;
  const timeline = document.getElementById("timeline");
  timeline.classList.add("is-saving");
  htmx
    .ajax("POST", current.bar.dataset.datesUrl, {
      source: current.bar,
      target: "#timeline",
      swap: "outerHTML",
      values: { start_date: dates.start || "", end_date: dates.end || "" },
    })
    .then(() => {
      if (document.getElementById("timeline") !== timeline) return;
      // Not swapped: the server refused (or was unreachable). Show its state again.
      announce("The dates could not be saved.");
      htmx.ajax("GET", window.location.pathname, { target: "#timeline", swap: "outerHTML" });
    });
});

// A click on a bar opens its item's dates form, for typing dates instead.
function openForm(bar) {
  const row = bar.closest(".tl-row");
  const details = row?.querySelector("details.tl-edit");
  if (!details) return;
  details.open = true;
  details.querySelector("input")?.focus();
}

// Every listener above is in place: say so (browser tests wait for it before dragging).
document.body.dataset.timeline = "ready";
