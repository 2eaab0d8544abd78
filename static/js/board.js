// The roadmap board's drag and drop, its keyboard alternative and the feature filter.
//
// The board works without this module: every card has a "Move to" form. Here, a drop (by mouse
// or keyboard) posts the same form fields to the card's move URL through htmx, and the board
// fragment the server answers replaces the board, so what shows is always the server's state.
// The position sent is the card's place among the other cards of its cell (1 = top); the
// server maps it to the column's order (roadmap.services.records.roadmap_item_place).

/* global htmx */

const liveRegion = () => document.getElementById("board-status");

// Clear first so that saying the same words twice is still announced.
function announce(text) {
  const region = liveRegion();
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

// Handles and the feature filter need this module, so they are hidden until it runs (on the
// page, and on every fragment htmx swaps in).
function enhance(root) {
  for (const hidden of root.querySelectorAll(".plan-card__handle[hidden], [data-filter-for][hidden]")) {
    hidden.hidden = false;
  }
}

enhance(document);
document.addEventListener("htmx:load", (event) => enhance(event.detail.elt));
document.addEventListener("planning:notice", (event) => announce(event.detail.text));

// --- Where a card is --------------------------------------------------------------------------

const cardsOf = (cell) => [...cell.querySelectorAll(":scope > .plan-card")];

// The number of cards other than `card` before `node` in its cell: the index the server wants.
function indexBefore(node, card) {
  let index = 0;
  for (const child of node.parentElement.children) {
    if (child === node) break;
    if (child !== card && child.classList.contains("plan-card")) index += 1;
  }
  return index;
}

function describe(card) {
  const cell = card.parentElement;
  const cards = cardsOf(cell);
  const lanes = !cell.closest(".plan-lane--only");
  const lane = lanes ? `, lane ${cell.dataset.laneLabel}` : "";
  return `${cell.dataset.horizonLabel}${lane}, position ${cards.indexOf(card) + 1} of ${cards.length}`;
}

// --- Saving a move -----------------------------------------------------------------------------

function saveMove(card, cell, index, { refocus = false } = {}) {
  const board = document.getElementById("board");
  const itemId = card.dataset.item;
  const values = {
    horizon: cell.dataset.horizon,
    lane: cell.dataset.lane,
    position: String(index + 1),
  };
  board.classList.add("is-saving");
  return htmx
    .ajax("POST", card.dataset.moveUrl, { source: card, target: "#board", swap: "outerHTML", values })
    .then(() => {
      const current = document.getElementById("board");
      if (current === board) {
        // Not swapped: the server refused (or was unreachable). Show its state again.
        board.classList.remove("is-saving");
        announce(`“${card.dataset.title}” could not be moved.`);
        htmx.ajax("GET", window.location.pathname, { target: "#board", swap: "outerHTML" });
        return;
      }
      if (refocus) document.querySelector(`#item-${itemId} .plan-card__handle`)?.focus();
    });
}

// --- The "Move to…" form keeps the focus on its card --------------------------------------------
// Its answer replaces the whole board, the focused button with it: focus would fall to <body>.
// Once the new board has settled, the moved card's "Move to…" gets it back, or, if the move was
// refused, the first field in error of the form that came back open.

let movedItem = null;

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest?.(".plan-move");
  movedItem = form?.closest(".plan-card")?.dataset.item ?? null;
});

document.addEventListener("htmx:afterSettle", (event) => {
  if (movedItem === null || event.detail.elt.id !== "board") return;
  const card = document.getElementById(`item-${movedItem}`);
  movedItem = null;
  const target =
    card?.querySelector(".plan-move [aria-invalid='true']") ??
    card?.querySelector(".plan-card__move > summary");
  target?.focus();
});

// --- Drag and drop (HTML5 drag events) ---------------------------------------------------------

let dragged = null;
let origin = null;
const marker = document.createElement("li");
marker.className = "plan-drop";
marker.setAttribute("aria-hidden", "true");

// The first card below the pointer in a cell (the drop goes before it), or null for the end.
function cardBelow(cell, y) {
  for (const card of cardsOf(cell)) {
    if (card === dragged) continue;
    const box = card.getBoundingClientRect();
    if (y < box.top + box.height / 2) return card;
  }
  return null;
}

function endDrag() {
  marker.remove();
  dragged?.classList.remove("is-dragging");
  document.getElementById("board")?.classList.remove("is-dragging");
  dragged = null;
  origin = null;
}

document.addEventListener("dragstart", (event) => {
  const card = event.target.closest?.(".plan-card[data-move-url]");
  if (!card || event.target !== card || lifted) return;
  dragged = card;
  origin = { cell: card.parentElement, index: indexBefore(card, card) };
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", card.dataset.title);
  // After the browser took its picture of the card, so the picture is not dimmed.
  window.requestAnimationFrame(() => {
    card.classList.add("is-dragging");
    card.closest("#board")?.classList.add("is-dragging");
  });
});

document.addEventListener("dragover", (event) => {
  if (!dragged) return;
  const wrap = event.target.closest?.(".plan-cell-wrap");
  const cell = wrap?.querySelector(".plan-cell");
  if (!cell) {
    marker.remove();
    return;
  }
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  const below = cardBelow(cell, event.clientY);
  if (below) {
    if (marker.nextElementSibling !== below) cell.insertBefore(marker, below);
  } else if (marker.parentElement !== cell || marker.nextElementSibling) {
    cell.append(marker);
  }
});

document.addEventListener("drop", (event) => {
  if (!dragged || !marker.isConnected) return;
  event.preventDefault();
  const card = dragged;
  const cell = marker.parentElement;
  const index = indexBefore(marker, card);
  const unchanged = cell === origin.cell && index === origin.index;
  cell.insertBefore(card, marker);
  endDrag();
  if (!unchanged) saveMove(card, cell, index);
});

document.addEventListener("dragend", endDrag);

// --- Keyboard: Space or Enter on a handle picks the card up, arrows move it, Enter drops it,
// Escape puts it back. ---------------------------------------------------------------------------

let lifted = null;

function cellsWhere(attribute, value) {
  const board = document.getElementById("board");
  return [...board.querySelectorAll(`.plan-cell[data-${attribute}="${CSS.escape(value)}"]`)];
}

function place(card, cell, index) {
  const others = cardsOf(cell).filter((c) => c !== card);
  cell.insertBefore(card, others[index] ?? null);
  lifted.handle.focus();
  announce(describe(card));
}

// Up and down: within the cell, then on into the same column of the lane above or below.
function moveVertically(step) {
  const { card } = lifted;
  const cell = card.parentElement;
  const index = cardsOf(cell).indexOf(card) + step;
  if (index >= 0 && index < cardsOf(cell).length) {
    place(card, cell, index);
    return;
  }
  const column = cellsWhere("horizon", cell.dataset.horizon);
  const next = column[column.indexOf(cell) + step];
  if (!next) {
    announce(`${step < 0 ? "Top" : "Bottom"} of the ${cell.dataset.horizonLabel} column.`);
    return;
  }
  place(card, next, step < 0 ? cardsOf(next).length : 0);
}

// Left and right: the neighbouring column of the same lane, at the same place (or its end).
function moveSideways(step) {
  const { card } = lifted;
  const cell = card.parentElement;
  const row = cellsWhere("lane", cell.dataset.lane);
  const next = row[row.indexOf(cell) + step];
  if (!next) {
    announce(`No column ${step < 0 ? "before" : "after"} ${cell.dataset.horizonLabel}.`);
    return;
  }
  place(card, next, Math.min(cardsOf(cell).indexOf(card), cardsOf(next).length));
}

function lift(card, handle) {
  lifted = {
    card,
    handle,
    cell: card.parentElement,
    next: card.nextElementSibling,
    index: indexBefore(card, card),
  };
  card.classList.add("is-lifted");
  handle.setAttribute("aria-pressed", "true");
  announce(
    `Picked up “${card.dataset.title}”: ${describe(card)}. ` +
      "Arrow keys move it, Enter drops it, Escape cancels.",
  );
}

function settle() {
  lifted.card.classList.remove("is-lifted");
  lifted.handle.removeAttribute("aria-pressed");
  lifted = null;
}

function drop() {
  const { card, cell: fromCell, index: fromIndex } = lifted;
  const cell = card.parentElement;
  const index = indexBefore(card, card);
  settle();
  if (cell === fromCell && index === fromIndex) {
    announce(`“${card.dataset.title}” stays at ${describe(card)}.`);
    return;
  }
  saveMove(card, cell, index, { refocus: true });
}

function cancel() {
  const { card, cell, next, handle } = lifted;
  cell.insertBefore(card, next);
  settle();
  handle.focus();
  announce(`Move cancelled: “${card.dataset.title}” is back at ${describe(card)}.`);
}

const KEYS = {
  ArrowUp: () => moveVertically(-1),
  ArrowDown: () => moveVertically(1),
  ArrowLeft: () => moveSideways(-1),
  ArrowRight: () => moveSideways(1),
  Enter: drop,
  " ": drop,
  Escape: cancel,
};

document.addEventListener("keydown", (event) => {
  const handle = event.target.closest?.(".plan-card__handle");
  if (!handle) return;
  const card = handle.closest(".plan-card");
  if (!lifted) {
    if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      lift(card, handle);
    }
    return;
  }
  if (lifted.card !== card) return;
  if (event.key === "Tab") {
    cancel();
    return;
  }
  const action = KEYS[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

// Moving a focused card in the page blurs its handle for a moment; only a real departure (a
// click elsewhere) cancels a keyboard move.
document.addEventListener("pointerdown", (event) => {
  if (lifted && !lifted.card.contains(event.target)) cancel();
});

// --- The add form's feature filter: hides the options that do not match what is typed -------

document.addEventListener("input", (event) => {
  const input = event.target.closest?.("[data-filter-for]");
  if (!input) return;
  const select = document.getElementById(input.dataset.filterFor);
  const words = input.value.trim().toLowerCase();
  let first = null;
  let shown = 0;
  for (const option of select.options) {
    if (!option.value) continue;
    const match = option.text.toLowerCase().includes(words);
    option.hidden = !match;
    if (match) {
      shown += 1;
      first ??= option;
    }
  }
  if (words && (!select.value || select.selectedOptions[0]?.hidden)) {
    select.value = first ? first.value : "";
  }
  announce(`${shown} feature${shown === 1 ? "" : "s"} match.`);
});

// Every listener above is in place: say so (browser tests wait for it before dragging).
document.body.dataset.board = "ready";
