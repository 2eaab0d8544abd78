// New product: suggest a slug from the name until the slug is edited by hand.
// Without this script the server makes the slug from the name when it is left empty.

const slugify = (text) =>
  text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // drop accents: "Café" -> "Cafe"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/, "");

for (const slug of document.querySelectorAll("input[data-slug-from]")) {
  const source = document.getElementById(slug.dataset.slugFrom);
  if (!source) continue;
  // A slug already typed (or sent back with an error) is the person's choice: keep it.
  let edited = slug.value !== "" && slug.value !== slugify(source.value);
  const suggest = () => {
    if (!edited) slug.value = slugify(source.value);
  };
  slug.addEventListener("input", () => {
    edited = slug.value !== "";
  });
  source.addEventListener("input", suggest);
  // The name may have been typed before this module ran.
  suggest();
}
