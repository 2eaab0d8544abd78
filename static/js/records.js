// Records pages: a filter box for long feature checklists (insights and objectives).
// Without this module the checklist still scrolls and submits; the box stays hidden.

function filterChecklist(input) {
  const list = input.closest("[data-checklist]");
  const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const item of list.querySelectorAll(".checklist__options > li")) {
    const text = item.textContent.toLowerCase();
    // Ticked features stay visible, so a filter never hides what will be submitted.
    const ticked = item.querySelector("input:checked") !== null;
    const match = ticked || words.every((word) => text.includes(word));
    item.hidden = !match;
    if (match) shown += 1;
  }
  const none = list.querySelector("[data-checklist-none]");
  if (none) none.hidden = shown > 0;
}

// Reveal the filter boxes of checklists on the page and in content htmx swaps in.
function reveal(root) {
  for (const input of root.querySelectorAll("[data-checklist-filter]")) input.hidden = false;
}

document.addEventListener("input", (event) => {
  if (event.target.matches("[data-checklist-filter]")) filterChecklist(event.target);
});

// Enter in the filter box must not submit the form it sits in.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("[data-checklist-filter]")) {
    event.preventDefault();
  }
});

document.addEventListener("htmx:load", (event) => reveal(event.target));
reveal(document);
