// Feature form after a concurrent save: "Use theirs" puts the other person's saved value into
// the form field, so keeping theirs for one field is a click. The form is saved as usual.

const form = document.querySelector("form.feature-form");

function useTheirs(name, values) {
  const field = form?.elements.namedItem(name);
  if (!field) return null;
  if (field instanceof RadioNodeList) {
    // A group of checkboxes (personas): tick exactly their choices.
    for (const box of field) box.checked = values.includes(box.value);
    return field[0] ?? null;
  }
  field.value = values[0] ?? "";
  return field;
}

for (const button of document.querySelectorAll("[data-use-theirs]")) {
  button.hidden = false;
  button.addEventListener("click", () => {
    const field = useTheirs(button.dataset.useTheirs, JSON.parse(button.dataset.values));
    if (!field) return;
    button.textContent = "Theirs is in the form";
    button.disabled = true;
    field.focus();
  });
}
