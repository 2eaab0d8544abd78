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

// Destructive forms ask first: <form data-confirm="Remove Ada?">.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

