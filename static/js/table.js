// The prioritization table's keyboard and selection helpers. The table works without this
// file (rows post as forms, filters are a GET form). With it, a changed cell saves itself alone
// (through htmx, from one listener for the whole table), and:
//   "/"     focuses the search box,
//   Enter   saves the cell now (instead of submitting the whole row),
//   Escape  puts the cell back to its stored value,
// the select-all box and the count of ticked rows for bulk edits.

const CELL = ".prio__input";

// Fields that take text (or pick by typing): "/" is theirs there. A checkbox is not one.
const TYPING = "input:not([type=checkbox]):not([type=radio]), select, textarea, [contenteditable]";

function typing(target) {
  return target.closest(TYPING) !== null;
}

// "/" jumps to the search box, as in many web apps; not while typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (typing(event.target)) return;
  const search = document.getElementById("table-search");
  if (!search) return;
  event.preventDefault();
  search.focus();
  search.select();
});

// Enter saves the cell it is in. The browser would otherwise submit the row's form (the
// no-JavaScript path) and reload the page. The change event is what htmx listens to.
document.addEventListener("keydown", (event) => {
  const cell = event.target.closest?.(CELL);
  if (!cell) return;
  if (event.key === "Enter" && cell.tagName === "INPUT") {
    event.preventDefault();
    if (cell.value !== cell.dataset.saved || cell.getAttribute("aria-invalid") === "true") {
      cell.dataset.sent = cell.value;
      cell.dispatchEvent(new Event("change", { bubbles: true }));
    }
  } else if (event.key === "Escape") {
    event.preventDefault();
    revert(cell);
  }
});

// After Enter sent a value, leaving the cell makes the browser fire its own change for the same
// value: drop that one, so a cell is not saved twice.
document.addEventListener(
  "change",
  (event) => {
    const cell = event.target.closest?.(CELL);
    if (cell && event.isTrusted && cell.dataset.sent === cell.value) {
      event.stopImmediatePropagation();
    }
  },
  true,
);

function revert(cell) {
  const saved = cell.dataset.saved ?? "";
  if (cell.value === saved && cell.getAttribute("aria-invalid") !== "true") return;
  cell.value = saved;
  delete cell.dataset.sent;
  cell.removeAttribute("aria-invalid");
  cell.closest("td")?.classList.remove("is-invalid");
  const error = document.getElementById(`${cell.id}-error`);
  if (error) error.hidden = true;
  announce("Change undone.");
}

function announce(text) {
  const status = document.getElementById("table-status");
  if (status) status.textContent = text;
}

// --- Saving a cell ---------------------------------------------------------------------------

// One listener saves every cell of the table: a changed cell posts itself to its row's form's
// action, with that form's fields (the row's version, the CSRF token), through htmx, so the
// request keeps what the table's body sets for it: its queue (data-hx-sync), no swap but the
// out-of-band ones, the table-edits extension below, and HX-Trigger-Name naming the cell. The
// cells carry no htmx attribute of their own: htmx set up each control of the rows it added one
// by one (about 4,300 for the 620 rows of a "Show all": seconds); now adding rows sets up none.
document.addEventListener("change", (event) => {
  const cell = event.target.closest?.(`#feature-rows ${CELL}`);
  if (!cell?.form || !window.htmx) return;
  // Failures are reported by htmx's error events (waymark.js), not by the promise.
  window.htmx
    .ajax("POST", cell.form.getAttribute("action"), { source: cell, swap: "none" })
    .catch(() => {});
});

// --- Answers to edits ------------------------------------------------------------------------

// An edit's answer updates, out of band, the rank of every row of the view that moved, as the
// server sees the view now. Rows someone else added since this page loaded are not on it, and
// htmx reports an update without a target as an error: leave those out (a reload shows them).
// The ranks (two cells a row, hundreds of rows after a move to the top of "Show all") come in
// one <template data-table-ranks> and are swapped here in one pass: htmx's out-of-band swap of
// each took about 15 ms in a table of 600 rows, 9 s for a move of 600 ranks.
window.htmx?.defineExtension("table-edits", {
  transformResponse(text) {
    const parsed = document.createElement("template");
    parsed.innerHTML = text;
    let changed = false;
    for (const ranks of parsed.content.querySelectorAll("template[data-table-ranks]")) {
      for (const cell of [...ranks.content.children]) {
        document.getElementById(cell.id)?.replaceWith(cell);
      }
      ranks.remove();
      changed = true;
    }
    for (const wrapper of parsed.content.querySelectorAll("template")) {
      for (const update of wrapper.content.querySelectorAll("[id][data-hx-swap-oob='true']")) {
        if (!document.getElementById(update.id)) {
          wrapper.remove();
          changed = true;
          break;
        }
      }
    }
    return changed ? parsed.innerHTML : text;
  },
});

// --- Sorting ------------------------------------------------------------------------------

// A column header (or "Re-sort") asks the filter form for the table, with the header's sort:
// the form is never replaced, so its requests queue behind edits in flight and the newest wins.
// Without JavaScript, or opened in a new tab, the header is a plain link.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-sort], a[data-resort]");
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const form = document.getElementById("table-filters");
  const sort = document.getElementById("table-sort");
  if (!form || !sort || !window.htmx) return;
  event.preventDefault();
  if (link.dataset.sort) sort.value = link.dataset.sort;
  window.htmx.trigger(form, "submit");
});

// --- Selection for bulk edits ---------------------------------------------------------------

function boxes() {
  return [...document.querySelectorAll("input[data-row-select]")];
}

// The words match the bulk form's (table/_bulk.html), which shows them before this runs.
function refreshSelection() {
  const all = boxes();
  const ticked = all.filter((box) => box.checked).length;
  const selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.hidden = all.length === 0;
    selectAll.checked = ticked > 0 && ticked === all.length;
    selectAll.indeterminate = ticked > 0 && ticked < all.length;
  }
  const count = document.querySelector("[data-selected-count]");
  if (count) {
    count.textContent =
      ticked === 0 ? "Tick rows to edit them together" : `${ticked} selected`;
  }
  const apply = document.querySelector("[data-bulk-apply]");
  if (apply) apply.disabled = ticked === 0;
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-select-all]")) {
    for (const box of boxes()) box.checked = event.target.checked;
  }
  if (event.target.matches("[data-select-all], input[data-row-select]")) refreshSelection();
});

// A bulk edit of hundreds of rows would send hundreds of fields: send the ids as one.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.id !== "bulk-form") return;
  const { formData } = event.detail;
  const ids = formData.getAll("features");
  formData.delete("features");
  formData.set("features", ids.join(","));
});

// A saved cell can move a thousand ranks: tell the server which rows are on the page, so that it
// answers with theirs only.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.matches?.(CELL)) return;
  const rows = document.querySelectorAll("#feature-rows .prio__row");
  const ids = Array.from(rows, (row) => row.id.replace("feature-", ""));
  event.detail.formData.set("shown", ids.join(","));
});

// "Reload row" (after a conflict) puts the focus back in the cell that could not be saved.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.requestConfig?.elt?.dataset?.focusAfter;
  if (target) document.getElementById(target)?.focus();
});

// "Show more" and "Show all" put the focus on the first row they added, where reading goes on.
document.addEventListener("htmx:afterSettle", (event) => {
  const shown = event.detail.requestConfig?.elt?.dataset?.tableMore;
  if (shown === undefined) return;
  const rows = document.querySelectorAll("#feature-rows .prio__row .table__title");
  rows[Number(shown)]?.focus();
});

// --- The scrollbar above the table -----------------------------------------------------------

// As wide as the table, and scrolled with it both ways: on a laptop the table is wider than its
// box, whose own scrollbar is at the bottom of a box taller than what shows after the filters.
const hbarWatcher = new ResizeObserver((entries) => {
  for (const entry of entries) fitHbar(entry.target.closest("[data-table-scroll]"));
});

function fitHbar(scroll) {
  const bar = scroll?.previousElementSibling;
  if (!bar?.matches("[data-table-hbar]")) return;
  // Plus the box's vertical scrollbar, which the bar does not have: both then scroll as far.
  const gutter = scroll.offsetWidth - scroll.clientWidth;
  bar.firstElementChild.style.width = `${scroll.scrollWidth + gutter}px`;
  bar.scrollLeft = scroll.scrollLeft;
}

function linkHbar() {
  const scroll = document.querySelector("[data-table-scroll]");
  const bar = scroll?.previousElementSibling;
  if (!bar?.matches("[data-table-hbar]") || scroll.dataset.hbar) return;
  scroll.dataset.hbar = "linked";
  bar.addEventListener("scroll", () => {
    if (scroll.scrollLeft !== bar.scrollLeft) scroll.scrollLeft = bar.scrollLeft;
  });
  scroll.addEventListener("scroll", () => {
    if (bar.scrollLeft !== scroll.scrollLeft) bar.scrollLeft = scroll.scrollLeft;
  });
  hbarWatcher.disconnect();
  hbarWatcher.observe(scroll.querySelector("table"));
  fitHbar(scroll);
}

document.addEventListener("htmx:load", linkHbar);
linkHbar();

// New content (a filtered table, a bulk edit's answer) has its own boxes.
document.addEventListener("htmx:load", refreshSelection);
refreshSelection();
