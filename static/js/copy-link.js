// "Copy link" buttons for the share links' URLs.
//
// Without this module each URL is in a read-only input, to select and copy by hand. Here, each
// <button data-copy-from="input id" hidden> shows, copies that input's value with the Clipboard
// API and says "Copied" in the page's live region (#copy-status). Where the clipboard is not
// available (or refused), the URL is selected instead, for the keyboard's copy.

const region = () => document.getElementById("copy-status");

// Clear first so that copying the same link twice is announced twice.
function announce(text) {
  const status = region();
  if (!status) return;
  status.textContent = "";
  window.setTimeout(() => {
    status.textContent = text;
  }, 50);
}

function selectText(input) {
  input.focus();
  input.select();
}

async function copy(button) {
  const input = document.getElementById(button.dataset.copyFrom);
  if (!input) return;
  try {
    if (!navigator.clipboard) throw new Error("no clipboard");
    await navigator.clipboard.writeText(input.value);
  } catch {
    selectText(input);
    announce("Could not copy: the link is selected, press Ctrl+C (⌘C on a Mac) to copy it.");
    return;
  }
  const text = button.querySelector("[data-copy-text]");
  if (text) {
    text.textContent = "Copied";
    window.clearTimeout(button.copyReset);
    button.copyReset = window.setTimeout(() => {
      text.textContent = "Copy link";
    }, 2000);
  }
  announce(`Copied the link for ${button.dataset.copyLabel || "this roadmap"}.`);
}

for (const button of document.querySelectorAll("button[data-copy-from]")) {
  button.hidden = false;
  button.addEventListener("click", () => copy(button));
}

// A read-only URL is selected whole on focus, so a click or Tab is enough to copy it by hand.
document.addEventListener("focusin", (event) => {
  if (event.target.matches?.("input[data-copy-source]")) event.target.select();
});
